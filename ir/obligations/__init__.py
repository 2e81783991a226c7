"""Notification duties: jurisdiction rules as data, deadline clocks, outcomes and reports."""
