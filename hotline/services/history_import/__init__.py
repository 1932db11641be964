"""Importing a city's ticket history from its old system's CSV export."""
