"""The ticket and its lifecycle: the action table, opening tickets (the one way in), transitions and
their events, derived data, assists, returns, deadlines, merging, numbering, notices to staff, the
workbench, and what the sweep re-enqueues (recovery)."""
