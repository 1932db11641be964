"""The ticket described once (issue 15, item 6): the marshmallow schemas that write a ticket's
JSON (a list's item, GET's whole ticket, what POST /tickets answers) and what it nests, and are,
through apispec, the OpenAPI components `TicketSummary`, `Ticket`, `NewTicket`, `TicketPage`,
`Assist`, `Sla`, `ExtensionRequest`, `ReturnRequest`, `Event`, `Attachment`, `Contact` and
`Notification`. The body of POST /tickets is `TicketInput`.

What the viewer may see depends on who they are (a masked caller, the actions they may take, a
merge they may not follow): `Shown` carries a ticket with what was worked out for that viewer
once, and the schemas read the ticket's own columns through it (`Seen.get_attribute`). Speed
(benchmarks/ticket_json.py): the schemas are made once, at import; a list is one `many=True`
dump; the fields read attributes, never look anything up per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from flask import url_for
from marshmallow import fields, missing

from hotline import labels
from hotline.api.schemas import (
    Body,
    Code,
    Computed,
    Count,
    Flag,
    Id,
    Number,
    Output,
    Text,
    Time,
    nullable,
    optional,
    page_of,
)
from hotline.api.serializers import iso, parent_number
from hotline.models import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Attachment,
    Channel,
    OutboundMessage,
    Status,
    Ticket,
    TicketAssist,
    TicketEvent,
    User,
)
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_contact, outbox
from hotline.services.citizens.phones import mask_phone
from hotline.services.clocks import sla
from hotline.services.ticketing import assists, attachments, deadlines, lifecycle, merging, returns, tree

# --- the input -------------------------------------------------------------------------------


class TicketInput(Body):
    """A call to log (POST /tickets); the values (codes, the number) are the service's to check."""

    caller_phone = Text(required=True, metadata={"description": "Any common notation; a valid number."})
    caller_name = optional(Text())
    type = Text(required=True, metadata={"enum": list(TICKET_TYPES)})
    category = Text(required=True)
    district = optional(Text())
    address = optional(Text())
    description = Text(required=True, metadata={"maxLength": 5000, "description": "Not blank."})
    urgency = optional(Text(metadata={"enum": list(URGENCIES)}))
    channel = optional(Text(metadata={"enum": list(CHANNELS)}))
    confidential = optional(Flag())
    direct_answer = optional(Text(metadata={"description": "A consultation answered at once."}))
    article_id = optional(Id(metadata={"description": "The knowledge-base article the answer cites."}))
    # geo (issue 18): WGS84; ranges, both or neither: the service checks (inside the city once it is loaded)
    lat = optional(Number(metadata={"minimum": -90, "maximum": 90, "description": "WGS84."}))
    long = optional(Number(metadata={"minimum": -180, "maximum": 180, "description": "WGS84."}))


TICKET_INPUT = TicketInput()


# --- what the output reads -------------------------------------------------------------------


class Seen(Output):
    """An answer about a row (`row`) as one viewer sees it: the names of the wrapper's slots are
    read from the wrapper (worked out for the viewer), every other field from the row."""

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        return getattr(obj, attr) if attr in obj.OWN else getattr(obj.row, attr, default)


class _FromRow:
    """Read straight from the wrapper's row: no accessor, no default, no per-call lookup."""

    attribute: str | None

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return getattr(obj.row, self.attribute or attr)


class _TimeFromRow(Time):
    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return iso(getattr(obj.row, attr))


class _CodeFromRow(Code):
    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        value = getattr(obj.row, attr)
        return getattr(value, self.key) if value is not None else None


_COLUMNS: dict[type[fields.Field], type[fields.Field]] = {}


def column(kind: type[fields.Field], **kwargs: Any) -> fields.Field:
    """A column of the row as the database gives it (a str, int, bool, float or None: nothing to
    convert on the way out), described as `kind`; `Time` writes it as every moment, `Code` by
    the related row's code."""
    if kind is Time:
        return _TimeFromRow(**kwargs)
    if kind is Code:
        return _CodeFromRow(**kwargs)
    if kind not in _COLUMNS:
        _COLUMNS[kind] = type(f"{kind.__name__}Column", (_FromRow, kind), {})
    return _COLUMNS[kind](**kwargs)


class Shown:
    """A ticket with what its JSON shows `viewer` worked out once."""

    __slots__ = (
        "row",
        "viewer",
        "masked",
        "extension",
        "return_request",
        "assisting",
        "actions",
        "children",
        "events",
        "notifications",
        "contacts",
        "attachments",
        "routing_queued",
    )
    OWN: ClassVar[frozenset[str]] = frozenset(__slots__)

    def __init__(self, ticket: Ticket, viewer: User, masked: bool, helpers: Sequence[TicketAssist] | None) -> None:
        self.row = ticket
        self.viewer = viewer
        self.masked = masked
        # Only a ticket with a department can have a request waiting: skip the queries otherwise.
        with_department = ticket.status in Status.WITH_DEPARTMENT
        self.extension = deadlines.pending_extension(ticket) if with_department else None
        self.return_request = returns.pending_request(ticket) if with_department else None
        helpers = assists.of_ticket(ticket) if helpers is None else helpers
        self.assisting = sorted(helpers, key=_department_code) if len(helpers) > 1 else helpers
        # What the viewer may do with it now, from the lifecycle table (`services/ticketing/lifecycle.py`).
        self.actions = lifecycle.allowed(
            viewer,
            ticket,
            lifecycle.known_facts(
                viewer,
                pending_extension=self.extension is not None,
                pending_return=self.return_request is not None,
                assists=helpers,
            ),
        )


def _department_code(assist: TicketAssist) -> str:
    return assist.department.code


class SeenEvent:
    __slots__ = ("row", "data")
    OWN: ClassVar[frozenset[str]] = frozenset(__slots__)

    def __init__(self, event: TicketEvent, hidden: set[str] | frozenset[str]) -> None:
        """`hidden`: ticket numbers the viewer may not see; a merge event naming one names none."""
        self.row = event
        data = dict(event.data or {})
        name = merging.MERGE_EVENT_FIELDS.get(event.kind)
        if name and data.get(name) in hidden:
            data[name] = None
        if event.kind == "routed":
            # `reason` in the caller's language, from the code `by` (stored events hold codes only).
            data["reason"] = labels.routing_reason(data)
        self.data = data


class SeenMessage:
    __slots__ = ("row", "to")
    OWN: ClassVar[frozenset[str]] = frozenset(__slots__)

    def __init__(self, message: OutboundMessage, masked: bool) -> None:
        self.row = message
        self.to = mask_phone(message.to) if masked else message.to


# --- what a ticket nests ---------------------------------------------------------------------


class Derived(fields.Nested):
    """A nested object (or list, `many=True`) worked out from the whole object (`compute(obj)`)."""

    def __init__(self, nested: type[Output], compute: Any, **kwargs: Any) -> None:
        super().__init__(nested, required=True, **kwargs)
        self.compute = compute

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self._serialize(self.compute(obj), attr, obj, **kwargs)


class AssistSchema(Output):
    department = Code(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "done"]})
    reply = Computed(lambda assist: assist.reply or "", required=True, metadata={"type": "string"})
    done_at = Time(required=True, allow_none=True)


class AmountSchema(Output):
    """`accept` and `resolve` of the terms (inline in the document)."""

    INLINE = True
    amount = fields.Integer(required=True)
    unit = fields.String(required=True)


class AcceptSchema(AmountSchema):
    unit = fields.String(required=True, metadata={"enum": list(ACCEPT_UNITS)})


class ResolveSchema(AmountSchema):
    unit = fields.String(required=True, metadata={"enum": list(RESOLVE_UNITS)})


class TimeUsedSchema(Output):
    INLINE = True
    fraction = fields.Float(required=True, metadata={"minimum": 0})
    minutes_left = fields.Integer(required=True)
    working = fields.Boolean(required=True)


class SlaSchema(Output):
    """The terms the ticket copied at dispatch and how much of its resolve time is used (a
    ticket with terms)."""

    policy = Computed(
        lambda ticket: ticket.sla_terms.get("source", "default"),
        required=True,
        metadata={"type": "string", "description": "A category code, `hotline` or `default`."},
    )
    accept = Derived(
        AcceptSchema,
        lambda ticket: {"amount": ticket.sla_terms["accept_amount"], "unit": ticket.sla_terms["accept_unit"]},
    )
    resolve = Derived(
        ResolveSchema,
        lambda ticket: {"amount": ticket.sla_terms["resolve_amount"], "unit": ticket.sla_terms["resolve_unit"]},
    )
    time_used = Derived(TimeUsedSchema, lambda ticket: sla.time_used(ticket, utcnow()), allow_none=True)


class ExtensionRequestSchema(Output):
    days = fields.Integer(required=True)
    reason = fields.String(required=True)
    requested_by = Code(required=True, key="username")
    created_at = Time(required=True)


class ReturnRequestSchema(Output):
    reason_code = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)
    requested_by = Code(required=True, key="username")
    created_at = Time(required=True)


class EventSchema(Seen):
    kind = column(
        fields.String, required=True, metadata={"examples": ["created", "routed", "dispatched", "accepted", "note"]}
    )
    at = column(Time, required=True)
    actor = column(Code, required=True, allow_none=True, key="username")  # null: the system (routing, jobs)
    from_status = nullable(column(fields.String, required=True, metadata={"enum": list(Status.ALL)}))
    to_status = nullable(column(fields.String, required=True, metadata={"enum": list(Status.ALL)}))
    data = Computed(
        lambda seen: seen.data,
        required=True,
        metadata={"type": "object", "description": "What the event carries; depends on `kind`."},
    )


class AttachmentSchema(Output):
    """An attachment (issue 18 item 5): `url` streams the file to whoever may see the ticket (its
    thumbnail: `url` + "/thumbnail")."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": ["photo", "before", "after", "document", "recording"]})
    content_type = fields.String(required=True, metadata={"examples": ["image/jpeg", "application/pdf", "audio/wav"]})
    size = Count(required=True)
    created_at = Time(required=True)
    url = Computed(
        lambda attachment: url_for("api.get_attachment", number=attachment.ticket.number, attachment_id=attachment.id),
        required=True,
        metadata={"type": "string"},
    )


class ContactSchema(Output):
    """One attempt to reach the citizen, or a callback (issue 17); `duration_seconds` only for
    a call through the hotline, `rating` only once given."""

    outcome = fields.String(
        required=True, metadata={"enum": ["reached", "no_answer", "wrong_number", "text", "calling"]}
    )
    note = fields.String(required=True)
    by = Code(required=True, allow_none=True, key="username")
    at = Time(required=True)
    purpose = fields.String(required=True, metadata={"enum": ["contact", "callback"]})
    duration_seconds = Computed(
        lambda contact: contact.duration_seconds if contact.call_sid is not None else missing,
        allow_none=True,
        metadata={"type": "integer", "minimum": 0},
    )
    rating = Computed(
        lambda contact: contact.rating if contact.rating is not None else missing,
        metadata={"type": "string", "enum": ["satisfied", "basically_satisfied", "unsatisfied"]},
    )


class NotificationSchema(Seen):
    """A text sent (or waiting) to the caller, from the outbox; its number masked as the caller's."""

    channel = column(fields.String, required=True)
    to = fields.String(required=True)  # the wrapper's: masked for department staff
    status = column(
        fields.String, required=True, metadata={"enum": ["queued", "sending", "sent", "delivered", "failed", "held"]}
    )
    body = column(fields.String, required=True)
    created_at = column(Time, required=True)
    sent_at = column(Time, required=True, allow_none=True)


class HolderSchema(Output):
    """A link of the chain (inline in the document)."""

    INLINE = True
    department = Code(required=True)
    since = Time(required=True, allow_none=True)
    due = Time(required=True, allow_none=True)


# --- the ticket ------------------------------------------------------------------------------


def _caller_phone(shown: Shown) -> str:
    # Department staff see 138****8000, as on the pages.
    return mask_phone(shown.row.caller_phone) if shown.masked else shown.row.caller_phone


def _caller_name(shown: Shown) -> str | None:
    # A confidential caller's name is not for the departments at all, as on the pages.
    return None if shown.masked and shown.row.confidential else shown.row.caller_name


def _parent(shown: Shown) -> str | None:
    return parent_number(shown.row, shown.viewer)


def _sla(shown: Shown) -> Ticket | None:
    return shown.row if shown.row.sla_terms else None  # null before dispatch


def _holder(shown: Shown) -> str | None:
    unit = tree.holder(shown.row)
    return unit.code if unit else None


def _handler(shown: Shown) -> str | None:
    handler = shown.row.handler
    return handler.username if handler else None


def _none_if_empty(name: str) -> Any:
    def read(shown: Shown) -> Any:
        return getattr(shown.row, name) or None

    return read


def _nested(schema: type[Output], many: bool = False, **kwargs: Any) -> fields.Field:
    """A field whose value the wrapper or the row gives, written by `schema`."""
    return fields.Nested(schema, required=True, many=many, **kwargs)  # a list: one `many=True` dump


class TicketSummarySchema(Seen):
    """A ticket as lists show it: no events, children or texts."""

    number = column(fields.String, required=True, metadata={"examples": ["20261125-000042"]})
    status = column(fields.String, required=True, metadata={"enum": list(Status.ALL)})
    type = column(fields.String, required=True, metadata={"enum": list(TICKET_TYPES)})
    category = column(Code, required=True)
    district = column(Code, required=True, allow_none=True)
    address = column(fields.String, required=True)
    description = column(fields.String, required=True)
    urgency = column(fields.String, required=True, metadata={"enum": list(URGENCIES)})
    # Any channel of the list: a hotspot's case and imported history too, not only those people name.
    channel = column(fields.String, required=True, metadata={"enum": [channel.value for channel in Channel]})
    confidential = column(fields.Boolean, required=True)
    caller_phone = Computed(
        _caller_phone,
        required=True,
        metadata={"type": "string", "description": "E.164; masked (138****8000) for department staff."},
    )
    caller_name = Computed(_caller_name, required=True, allow_none=True, metadata={"type": "string"})
    department = column(Code, required=True, allow_none=True)
    routed_by = nullable(  # null before routing
        column(
            fields.String, required=True, metadata={"enum": ["rule", "category_default", "suggestion", "dispatcher"]}
        )
    )
    routing_rule = column(fields.Integer, required=True, allow_none=True, attribute="routing_rule_id")
    parent = Computed(_parent, required=True, allow_none=True, metadata={"type": "string"})
    # Imported history: the old system's name and its id for the ticket; null for our own.
    source = Computed(_none_if_empty("source"), required=True, allow_none=True, metadata={"type": "string"})
    external_id = column(fields.String, required=True, allow_none=True)
    # geo (issue 18): where it happened, WGS84; null when unknown
    lat = column(
        fields.Float,
        required=True,
        allow_none=True,
        metadata={"minimum": -90, "maximum": 90, "description": "WGS84; null when unknown."},
    )
    long = column(
        fields.Float,
        required=True,
        allow_none=True,
        metadata={"minimum": -180, "maximum": 180, "description": "WGS84; null when unknown."},
    )
    assisting = _nested(AssistSchema, many=True)
    resolution = column(fields.String, required=True, allow_none=True)
    created_at = column(Time, required=True)
    dispatched_at = column(Time, required=True, allow_none=True)
    accepted_at = column(Time, required=True, allow_none=True)
    resolved_at = column(Time, required=True, allow_none=True)
    closed_at = column(Time, required=True, allow_none=True)
    accept_due_at = column(Time, required=True, allow_none=True)
    resolve_due_at = column(Time, required=True, allow_none=True)
    sla_level = nullable(  # null (on time), "amber" or "red"
        Computed(_none_if_empty("sla_level"), required=True, metadata={"type": "string", "enum": ["amber", "red"]})
    )
    paused_at = column(Time, required=True, allow_none=True)
    extended_days = column(Count, required=True)
    urge_count = column(Count, required=True)
    sla = Derived(SlaSchema, _sla, allow_none=True)
    extension = _nested(ExtensionRequestSchema, allow_none=True)
    # A late return waiting for a supervisor.
    return_request = _nested(ReturnRequestSchema, allow_none=True)
    # Contact with the citizen (issue 17): the first-contact deadline, and when it was met.
    contact_due_at = column(Time, required=True, allow_none=True)
    first_contacted_at = column(Time, required=True, allow_none=True)
    version = column(fields.Integer, required=True, metadata={"minimum": 1})
    actions = fields.List(
        fields.String(metadata={"enum": lifecycle.listed_names()}),
        required=True,
        metadata={"description": "The actions the caller may take on the ticket now (the lifecycle table)."},
    )
    # Units in a tree (issue 17)
    handler = Computed(
        _handler,
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "The username of the person handling it (承办人)."},
    )
    holder = Computed(
        _holder,
        required=True,
        allow_none=True,
        metadata={"type": "string", "description": "The code of the unit holding it now."},
    )
    holders = Derived(
        HolderSchema,
        lambda shown: tree.chain(shown.row),
        many=True,
        metadata={"description": "From the unit the city dispatched it to down to the one holding it now (下派)."},
    )


class TicketSchema(TicketSummarySchema):
    """A ticket whole (GET, and what an action answers): its children, events, texts, contacts
    and attachments too."""

    children = fields.List(fields.String(), required=True)
    events = _nested(EventSchema, many=True)
    notifications = _nested(NotificationSchema, many=True)
    contacts = _nested(ContactSchema, many=True)  # issue 17
    attachments = _nested(AttachmentSchema, many=True)  # issue 18 item 5


class NewTicketSchema(TicketSchema):
    """The ticket just logged; `routing_queued` is false when it waits for the sweeper."""

    routing_queued = fields.Boolean(required=True)


TICKET_SUMMARY = TicketSummarySchema()
TICKET = TicketSchema()
NEW_TICKET = NewTicketSchema()
TICKET_PAGE = page_of("TicketPage", "tickets", TicketSummarySchema)
ATTACHMENT = AttachmentSchema()

# The components written with a description of their own (apispec writes a schema's Meta
# description instead of `additionalProperties: false`, not beside it); what they nest is named
# after its class. `Contact` first, so that the tickets nest it by that name.
COMPONENTS: dict[str, tuple[Output, str]] = {
    "Contact": (
        ContactSchema(),
        "An attempt to reach the citizen; `duration_seconds` for a call through the hotline.",
    ),
    "TicketSummary": (TICKET_SUMMARY, "A ticket as lists show it: no events, children or texts."),
    "Ticket": (TICKET, ""),
    "NewTicket": (NEW_TICKET, "The ticket just logged; `routing_queued` is false when it waits for the sweeper."),
    "TicketPage": (TICKET_PAGE, ""),
}


# --- writing it ------------------------------------------------------------------------------


def ticket_json(ticket: Ticket, viewer: User) -> dict[str, Any]:
    """The ticket whole as `viewer` may see it (GET, an action's answer)."""
    masked = access.masks_caller(viewer)
    shown = Shown(ticket, viewer, masked, None)
    shown.children = [child.number for child in merging.children(viewer, ticket)]
    named = merging.numbers_in_events(ticket)
    hidden = named - access.visible_numbers(viewer, named)
    shown.events = [SeenEvent(event, hidden) for event in ticket.events]
    shown.notifications = [SeenMessage(m, masked) for m in outbox.for_ticket(ticket)]
    shown.contacts = citizen_contact.contacts_of(ticket)  # issue 17
    shown.attachments = attachments.of_ticket(ticket)  # issue 18 item 5
    return TICKET.dump(shown)


def summaries(
    tickets: Iterable[Ticket], viewer: User, assisting: dict[int, list[TicketAssist]]
) -> list[dict[str, Any]]:
    """A page of a list: no events and children (a query each); the assisting departments
    loaded for the whole page at once (`assisting`, by ticket id)."""
    masked = access.masks_caller(viewer)
    return TICKET_SUMMARY.dump([Shown(t, viewer, masked, assisting[t.id]) for t in tickets], many=True)


def new_ticket_json(
    ticket: Ticket,
    viewer: User,
    events: Sequence[TicketEvent],
    messages: Sequence[OutboundMessage],
    routing_queued: bool,
) -> dict[str, Any]:
    """The ticket intake just wrote, from the rows as written, not read back (benchmarks/intake.py):
    a new ticket has no children, assisting departments, contacts or attachments yet, and its
    events and texts are the ones intake wrote. `routing_queued`: false when Redis is down (the
    sweeper routes it later)."""
    masked = access.masks_caller(viewer)
    shown = Shown(ticket, viewer, masked, [])
    shown.children = []
    shown.events = [SeenEvent(event, frozenset()) for event in events]
    shown.notifications = [SeenMessage(m, masked) for m in messages]
    shown.contacts = []
    shown.attachments = []
    shown.routing_queued = routing_queued
    return NEW_TICKET.dump(shown)


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return ATTACHMENT.dump(attachment)
