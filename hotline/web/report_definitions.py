"""The definitions printed on the reports dashboard and in the exports' About sheet, so that a
department can check the figure it is ranked by (services/reporting/report_figures.py computes them)."""

from __future__ import annotations

from flask_babel import gettext as _


def definitions() -> list[tuple[str, str]]:
    return [
        (
            _("Which tickets count"),
            _(
                "The tickets logged in the period: local days in the hotline’s time zone, both days included. "
                "Merged duplicates do not count: the ticket they were merged into answers for them."
            ),
        ),
        (
            _("Groups"),
            _(
                "Department: the lead department, the one that holds the ticket now (it was last dispatched "
                "to it); tickets no department holds count for the city only. Category: a ticket counts under "
                "its category and under every level above it. District, channel and type: as logged; tickets "
                "without a district count under “No district”."
            ),
        ),
        (
            _("The three clocks"),
            _(
                "Time to dispatch: from logging to the dispatch to a department, in minutes. Time to accept: "
                "from dispatch to acceptance (签收) by the department, in minutes. Time to resolve: from "
                "dispatch to the department’s reply (办结), in hours; a ticket never dispatched (imported "
                "history) counts from its logging. The median is the middle value, the 90th percentile the "
                "time within which nine in ten were done, the mean the average."
            ),
        ),
        (
            _("Response rate"),
            _(
                "Accepted on time (at or before the accept deadline), among the tickets whose acceptance is "
                "decided: accepted, or not accepted and past the deadline while a department holds them. "
                "Its drill-down lists the tickets accepted late or not accepted in time, as of now."
            ),
        ),
        (
            _("Resolution rate"),
            _("Resolved among received. Direct answers at intake are not counted as resolved."),
        ),
        (
            _("Resolved on time"),
            _(
                "Resolved at or before the resolve deadline (extensions included), among the resolved tickets "
                "that had a deadline. Its drill-down lists the tickets resolved after the deadline."
            ),
        ),
        (
            _("Satisfaction"),
            _(
                "Rated satisfied or basically satisfied, among the tickets the citizen rated. Its drill-down "
                "lists the tickets rated not satisfied."
            ),
        ),
        (
            _("Direct-answer rate"),
            _("Consultations answered at intake and never dispatched, among received."),
        ),
        (
            _("Return rate"),
            _(
                "Tickets a department sent back at least once as not theirs (misrouted), among tickets "
                "sent to a department at least once (a returned ticket awaiting dispatch again counts)."
            ),
        ),
        (
            _("Reopen rate"),
            _("Tickets reopened because the citizen was not satisfied, among resolved."),
        ),
        (
            _("Open and overdue now"),
            _(
                "Open: not yet resolved or closed. Overdue now (the headline figure, and the overdue list): "
                "every open ticket whose resolve deadline (extensions included) has passed at this moment, "
                "whenever it was logged; a ticket waiting on the citizen counts if its deadline passed before "
                "its clock was paused; imported tickets count with their old system’s deadline. Overdue now, "
                "logged in the period (the tables): the same, among the tickets logged in the period. Both "
                "are read live, so they may differ from the other figures by the last minute’s changes."
            ),
        ),
        (
            _("Ranking"),
            _(
                "Departments are ranked worst first: by resolved-on-time rate, then response rate (lowest "
                "first), then the number overdue now (most first). Departments without a resolved ticket "
                "that had a deadline are listed last, unranked."
            ),
        ),
        (
            _("Comparison"),
            _(
                "Each headline figure is compared with the previous period: yesterday for today, the same "
                "weekdays of last week for this week, the same days of last month for this month, otherwise "
                "the same number of days just before. Rates change in percentage points (pp)."
            ),
        ),
    ]
