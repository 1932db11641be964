"""Human labels for the codes that the API and the database use."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "new": _l("New"),
    "pending_dispatch": _l("Awaiting dispatch"),
    "dispatched": _l("Dispatched"),
    "in_progress": _l("In progress"),
    "waiting_on_citizen": _l("Waiting on the citizen"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "merged": _l("Merged"),
}

TYPE_LABELS = {
    "consultation": _l("Consultation"),
    "help": _l("Request for help"),
    "complaint": _l("Complaint"),
    "report": _l("Report"),
    "suggestion": _l("Suggestion"),
    "praise": _l("Praise"),
}

URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent")}

CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "sms": _l("SMS"),
    "web": _l("Web"),
    "voicemail": _l("Voicemail"),
    "open311": _l("Open311"),
    "api": _l("API"),
}

ROLE_LABELS = {
    "operator": _l("Operator"),
    "dispatcher": _l("Dispatcher"),
    "department": _l("Department staff"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}

EVENT_LABELS = {
    "created": _l("Logged"),
    "direct_answer": _l("Answered directly"),
    "routed": _l("Routed"),
    "dispatched": _l("Dispatched"),
    "accepted": _l("Accepted"),
    "note": _l("Note"),
    "resolved": _l("Resolved"),
    "returned": _l("Returned"),
    "waiting": _l("Waiting on the citizen"),
    "resumed": _l("Resumed"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "urged": _l("Urged"),
}

SLA_LEVEL_LABELS = {"": _l("On time"), "amber": _l("Due soon (75%)"), "red": _l("Overdue")}

SLA_UNIT_LABELS = {
    "working_hours": _l("working hours"),
    "calendar_minutes": _l("minutes"),
    "working_days": _l("working days"),
    "calendar_hours": _l("hours"),
}
