"""Notices: the people affected, letter templates, rendering and exactly-once delivery."""
