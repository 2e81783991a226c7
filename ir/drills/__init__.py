"""Drills: scripted scenarios replayed through the live engine, scored, reported and scheduled."""
