"""Human labels for the codes that the API and the database use."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

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
    # "Report" is also a statistics report (报表): the context keeps 举报 to the ticket type.
    "report": lazy_pgettext("ticket type", "Report"),
    "suggestion": _l("Suggestion"),
    "praise": _l("Praise"),
}

URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent")}

# One per channel of the one list, `models.Channel` (tests/services/test_openings.py checks).
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "sms": _l("SMS"),
    "web": _l("Web"),
    "voicemail": _l("Voicemail"),
    "open311": _l("Open311"),
    "api": _l("API"),
    # A supervisor's case from a hotspot (未诉先办), services/hotspot_detection/hotspots.py; not for operators to pick.
    "proactive": _l("Proactive case"),
    # Only on imported history (services/history_import/importing.py); not in CHANNELS, which people pick from.
    "mobile": _l("Mobile app"),
    "other": _l("Other"),
}

ROLE_LABELS = {
    "operator": _l("Operator"),
    "dispatcher": _l("Dispatcher"),
    "department": _l("Department staff"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}

# An API token's state (ApiToken.state).
TOKEN_STATE_LABELS = {
    "active": _l("In use"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}

# duty rota (值班, issue 17 item 4): the steps of an out-of-hours alert, on the timeline.
DUTY_STEP_LABELS = {
    "text": _l("Text to the person on duty"),
    "call": _l("Call to the person on duty"),
    "lead": _l("Text and call to the unit lead"),
    "supervisor": _l("Text and call to the supervisor on duty"),
}

# Attachments (issue 18 item 5)
ATTACHMENT_KIND_LABELS = {
    "photo": _l("Photo"),
    "before": _l("Photo before handling"),
    "after": _l("Photo after handling"),
    "document": _l("Document"),
    "recording": _l("Recording"),
}

EVENT_LABELS = {
    "attachment_added": _l("Attachment added"),
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
    "duty_alert": _l("Duty alert"),  # duty rota (值班, issue 17 item 4)
    "reassigned": _l("Reassigned"),
    "return_requested": _l("Return requested"),
    "return_refused": _l("Return refused"),
    "merged": _l("Merged"),
    "merge_received": _l("Duplicate merged in"),
    "assist_done": _l("Assisting part done"),
    "rated": _l("Rated by the citizen"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened: citizen not satisfied"),
    "citizen_message": _l("Message from the citizen"),
    "voicemail_transcribed": _l("Voicemail transcribed"),
    "imported": _l("Imported from the old system"),
    # Contact with the citizen and callback (issue 17).
    "contacted": _l("Contact with the citizen"),
    "citizen_call_started": _l("Call to the citizen started"),
    "citizen_called": _l("Call to the citizen"),
    "phone_revealed": _l("Citizen’s number shown"),
    "called_back": _l("Callback"),
    # Units in a tree (issue 17)
    "subdispatched": _l("Sent down"),
    "returned_up": _l("Returned up"),
    "reply_submitted": _l("Reply sent up for review"),
    "reply_approved": _l("Reply approved, sent up"),
    "reply_refused": _l("Reply refused"),
    "assigned": _l("Handler assigned"),
    # Attachments (issue 18 item 5): a citizen's MMS picture not kept; a photo made public or not
    "media_not_kept": _l("Citizen’s picture not kept"),
    "photo_made_public": _l("Photo made public"),
    "photo_made_private": _l("Photo no longer public"),
}

# Why a citizen's MMS picture was not kept (the media_not_kept event's `why`, twilio_media).
MEDIA_NOT_KEPT_LABELS = {
    "refused": _l("Not a photo, PDF document or recording, or damaged: not kept."),
    "too_large": _l("Too large: not kept."),
    "not_twilio": _l("Not an address of the hotline’s Twilio account: not fetched."),
    "unreachable": _l("Twilio could not be reached: not fetched. Ask the citizen to send it again."),
    "not_queued": _l("The job queue was unavailable: not fetched. Ask the citizen to send it again."),
}

# How an attempt to reach the citizen went (TicketContact.outcome, issue 17).
CONTACT_OUTCOME_LABELS = {
    "reached": _l("Reached"),
    "no_answer": _l("No answer"),
    "wrong_number": _l("Wrong number"),
    "text": _l("Text sent"),
    "calling": _l("Calling"),
}

SLA_LEVEL_LABELS = {"": _l("On time"), "amber": _l("Due soon (75%)"), "red": _l("Overdue")}

SLA_UNIT_LABELS = {
    "working_hours": _l("working hours"),
    "calendar_minutes": _l("minutes"),
    "working_days": _l("working days"),
    "calendar_hours": _l("hours"),
}

# How the department holding a ticket was chosen (Ticket.routed_by, the misrouting report).
ROUTED_BY_LABELS = {
    "rule": _l("Routing rule"),
    "category_default": _l("Category default department"),
    "suggestion": _l("Learned suggestion"),
    "dispatcher": _l("Dispatcher"),
    "none": _l("No department found"),
    "unknown": _l("Unknown"),
}

# Which condition of a routing rule did not hold (routing.Rule.mismatch), for the tester's trace.
RULE_CONDITION_LABELS = {
    "category": _l("Category"),
    "district": _l("District"),
    "type": _l("Type"),
    "urgency": _l("Urgency"),
    "keywords": _l("Keywords"),
    "place_unit": _l("Unit handling the place"),
}

# Why a ticket looks like a duplicate (merging.find_duplicates).
DUPLICATE_REASON_LABELS = {
    "same_phone": _l("same caller"),
    "same_place": _l("same category and place"),
    "similar_text": _l("similar description"),
}

ASSIST_STATUS_LABELS = {"open": _l("Working on it"), "done": _l("Done")}

# Calendar exceptions: a weekday off, or a weekend day worked (调休).
CALENDAR_DAY_LABELS = {True: _l("Holiday"), False: _l("Make-up workday")}

# The names of public holidays as stored (CalendarDay.name): the `chinesecalendar` package writes
# English ones, holiday-cn files Chinese ones. Shown in the reader's language; a name an
# administrator typed is shown as typed.
_HOLIDAYS = (
    (_l("New Year's Day"), ("New Year's Day", "元旦")),
    (_l("Spring Festival"), ("Spring Festival", "春节")),
    (_l("Tomb-sweeping Day"), ("Tomb-sweeping Day", "清明节")),
    (_l("Labour Day"), ("Labour Day", "劳动节")),
    (_l("Dragon Boat Festival"), ("Dragon Boat Festival", "端午节")),
    (_l("Mid-autumn Festival"), ("Mid-autumn Festival", "中秋节")),
    (_l("National Day"), ("National Day", "国庆节")),
    (_l("Mid-autumn Festival and National Day"), ("中秋节、国庆节", "国庆节、中秋节")),
    (_l("Victory Day (70th anniversary)"), ("Anti-Fascist 70th Day", "抗日战争暨世界反法西斯战争胜利70周年纪念日")),
)
HOLIDAY_NAMES = {stored: label for label, names in _HOLIDAYS for stored in names}


def holiday_name(name: str | None) -> str:
    """A stored holiday name in the reader's language (unknown names as they are)."""
    name = (name or "").strip()
    return str(HOLIDAY_NAMES.get(name, name))


# Where a calendar day came from (CalendarDay.source).
CALENDAR_SOURCE_LABELS = {
    "chinesecalendar": _l("chinesecalendar package"),
    "admin": _l("Corrected by an administrator"),
    "upload": _l("Uploaded file"),
    "api": _l("API"),
    "import": _l("Imported file"),
}

# The citizen's rating of the answer (回访满意度, services/citizens/survey.py).
RATING_LABELS = {
    "satisfied": _l("Satisfied"),
    "basically_satisfied": _l("Basically satisfied"),
    "unsatisfied": _l("Not satisfied"),
}


# Why an outbox message was not sent (OutboundMessage.last_error, senders.error_record): the
# app's own reasons in words; what Twilio itself said is shown as it came, labelled as Twilio's.
OUTBOX_ERRORS = {
    "no_sender": _l(
        "Not sent: no SMS sender is configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)."
    ),
    "opted_out": _l("Not sent: the citizen opted out of text messages."),
    "stale": _l("The worker stopped while sending: the message may have gone out, so it is not sent again by itself."),
    "provider_answered": _l("Twilio answered with HTTP status %(status)s."),
    "unreachable": _l("Could not reach Twilio."),
    "no_answer": _l("No answer from Twilio: the message may have gone out."),
    "provider_reported": _l("Twilio reported the message as %(provider_status)s."),
    "failed": _l("Sending failed."),
}
_OUTBOX_ERROR_DETAILS = (
    ("provider_code", _l("Twilio error code %(provider_code)s.")),
    ("provider_text", _l("Twilio’s words: %(provider_text)s")),
    ("detail", _l("Detail: %(detail)s")),
    ("gave_up_after", _l("Gave up after %(gave_up_after)s attempts.")),
)


def outbox_error(stored: str | None) -> str:
    """An outbox message's last error in the reader's language; text stored before codes as it is."""
    import json

    from flask_babel import get_locale

    try:
        record = json.loads(stored or "")
    except ValueError:
        return stored or ""
    if not isinstance(record, dict) or record.get("code") not in OUTBOX_ERRORS:
        return stored or ""
    values = {key: value for key, value in record.items() if key != "code"}
    sentences = [str(OUTBOX_ERRORS[record["code"]]) % {"status": "?", "provider_status": "?", **values}]
    sentences += [str(label) % values for key, label in _OUTBOX_ERROR_DETAILS if key in values]
    # Chinese sentences run on after their 。; English ones take a space.
    joiner = "" if str(get_locale() or "").startswith("zh") else " "
    return joiner.join(sentences)


def routing_reason(data: dict | None) -> str:
    """Why routing chose (or found no) department, in the reader's language, from the routed
    event's codes: `by`, the rule, the confidence. Events stored with a text reason and no code
    keep their text."""
    from flask_babel import gettext

    data = data or {}
    by, rule = data.get("by"), data.get("rule") or {}
    if by == "rule" and rule:
        return gettext(
            "rule %(id)s (priority %(priority)d) %(name)s",
            id=rule.get("id") or "-",
            priority=rule.get("priority") or 0,
            name=rule.get("name") or "",
        )
    if by == "category_default":
        return gettext("the category's default department")
    if by == "suggestion":
        return gettext("learned suggestion, confidence %(confidence).2f", confidence=data.get("confidence") or 0)
    if by == "none":
        return gettext("no rule matched and the category has no default department")
    return str(data.get("reason") or "")
