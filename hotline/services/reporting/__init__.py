"""Supervisors' reports: the figures per ticket and per day, the reports, the phone line's
figures."""
