"""The actions that move a ticket's deadlines: waiting on the citizen, extensions (延期),
urging (催办), and the sweep that turns clocks amber and red.

Like the lifecycle in `tickets`, each action checks the actor's right, the
state and the version the actor saw, writes an event and commits.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from hotline.extensions import db
from hotline.models import ExtensionRequest, Role, Status, Ticket, User
from hotline.models.types import utcnow
from hotline.services.citizens import citizen_contact
from hotline.services.clocks import sla
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.reporting import report_figures
from hotline.services.ticketing import lifecycle, notices
from hotline.services.ticketing.transition import decide_request

REASON_MAX = 2000


def wait_on_citizen(actor: User, ticket: Ticket, reason: str, expected_version: int | None = None) -> Ticket:
    """The department needs something from the citizen: the clocks stop until it comes."""
    lifecycle.require(actor, ticket, "wait")
    text = _required(reason, _("Say what the citizen must provide."), "reason")
    lifecycle.apply(actor, ticket, "wait", expected_version=expected_version, data={"reason": text})
    # Issue 17: the citizen is told by text what is needed; their reply resumes the ticket (citizen_sms).
    citizen_contact.ask_citizen(ticket, text)
    return ticket


def resume(actor: User | None, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """The citizen answered (or the department goes on without): the clocks run again,
    each deadline moved by the working time the pause took from it. `actor` None is the system."""
    lifecycle.apply(actor, ticket, "resume", expected_version=expected_version)
    return ticket


def request_extension(
    actor: User, ticket: Ticket, days: int, reason: str, expected_version: int | None = None
) -> ExtensionRequest:
    """A department asks for more working days, with a reason, before the deadline passes."""
    lifecycle.require(actor, ticket, "extend")
    text = _required(reason, _("Say why more time is needed."), "reason")
    lifecycle.check(ticket, "extend", expected_version)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidInput(_("Ask for a whole number of working days, at least 1."), field="days")
    limit = (ticket.sla_terms or sla.DEFAULT_TERMS["normal"].as_dict())["max_extension_days"]
    if ticket.extended_days + days > limit:
        raise InvalidInput(
            _(
                "Extensions may add at most %(limit)d working days in all; %(used)d are used.",
                limit=limit,
                used=ticket.extended_days,
            ),
            field="days",
        )
    now = utcnow()
    if ticket.resolve_due_at is not None and now > ticket.resolve_due_at:
        raise Conflict(_("The deadline has passed: an extension must be asked for before it."))
    if pending_extension(ticket) is not None:
        raise Conflict(_("An extension request for this ticket is already waiting for a decision."))
    request = ExtensionRequest(ticket_id=ticket.id, requested_by=actor, days=days, reason=text, created_at=now)
    db.session.add(request)
    notices.notify(
        "extension_requested",
        _("Ticket %(number)s: %(days)d more working days asked for.", number=ticket.number, days=days),
        now,
        ticket=ticket,
        role=Role.SUPERVISOR,
    )
    data = {"days": days, "reason": text}
    lifecycle.apply(actor, ticket, "extend", expected_version=expected_version, data=data, at=now)
    return request


def approve_extension(actor: User, ticket: Ticket, note: str = "", expected_version: int | None = None) -> Ticket:
    """A supervisor grants the pending extension: the resolve deadline moves."""
    lifecycle.require(actor, ticket, "approve_extension")
    request = _pending_or_conflict(ticket)
    lifecycle.check(ticket, "approve_extension", expected_version)
    now = utcnow()
    decide_request(request, actor, ExtensionRequest.APPROVED, note, now)
    notices.notify(
        "extension_approved",
        _("Ticket %(number)s: extension of %(days)d working days approved.", number=ticket.number, days=request.days),
        now,
        ticket=ticket,
        department_id=ticket.department_id,
    )
    data = {"note": note.strip()}  # and the deadlines it moved (the action's clocks)
    lifecycle.apply(
        actor, ticket, "approve_extension", expected_version=expected_version, data=data, at=now, days=request.days
    )
    return ticket


def refuse_extension(actor: User, ticket: Ticket, note: str, expected_version: int | None = None) -> Ticket:
    """A supervisor refuses the pending extension, saying why; the deadline stays."""
    lifecycle.require(actor, ticket, "refuse_extension")
    text = _required(note, _("Say why the extension is refused."), "reason")
    request = _pending_or_conflict(ticket)
    lifecycle.check(ticket, "refuse_extension", expected_version)
    now = utcnow()
    decide_request(request, actor, ExtensionRequest.REFUSED, text, now)
    notices.notify(
        "extension_refused",
        _("Ticket %(number)s: extension refused: %(reason)s", number=ticket.number, reason=text),
        now,
        ticket=ticket,
        department_id=ticket.department_id,
    )
    data = {"days": request.days, "reason": text}
    lifecycle.apply(actor, ticket, "refuse_extension", expected_version=expected_version, data=data, at=now)
    return ticket


def urge(actor: User, ticket: Ticket, text: str = "", expected_version: int | None = None) -> Ticket:
    """催办: a supervisor presses the department; counted on the ticket and announced to the department.
    No version is needed (as for a note), but one that is given is checked."""
    lifecycle.require(actor, ticket, "urge")
    lifecycle.check(ticket, "urge", expected_version)
    now = utcnow()
    message = (text or "").strip()[:REASON_MAX]
    # Counted with a plain UPDATE: urging does not change the ticket's version, so the
    # department acting on the page it has open is not refused for it.
    count = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(urge_count=Ticket.urge_count + 1)
        .returning(Ticket.urge_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(ticket, "urge_count", count)
    notices.notify(
        "urged",
        _("Ticket %(number)s is urged by the supervisor. %(text)s", number=ticket.number, text=message),
        now,
        ticket=ticket,
        department_id=ticket.department_id,
    )
    data = {"text": message, "count": count}
    lifecycle.apply(actor, ticket, "urge", expected_version=expected_version, data=data, at=now)
    return ticket


def pending_extension(ticket: Ticket) -> ExtensionRequest | None:
    return db.session.scalar(
        select(ExtensionRequest).where(
            ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.status == ExtensionRequest.PENDING
        )
    )


def sweep_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Turn clocks amber (75 % used) and red (overdue), and tell the department (and, when red,
    the supervisors) once per level. Waiting tickets are paused and skipped.

    The level is written with a plain UPDATE guarded by the old level: it does not bump the
    ticket's version (staff with the page open are not interrupted), and two sweeps running
    at once notify only once.
    """
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Ticket).where(
            Ticket.status.in_((Status.DISPATCHED, Status.IN_PROGRESS)),
            Ticket.sla_level != "red",
            or_(
                Ticket.resolve_amber_at <= now,
                and_(Ticket.accepted_at.is_(None), Ticket.accept_amber_at <= now),
            ),
        )
    ).all()
    counts = {"amber": 0, "red": 0}
    for ticket in candidates:
        level = sla.level_at(ticket, now)
        if sla.LEVELS.index(level) <= sla.LEVELS.index(ticket.sla_level or ""):
            continue
        changed = db.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.sla_level == ticket.sla_level)
            .values(sla_level=level)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            continue
        counts[level] += 1
        if level == "red":  # a missed accept deadline changes the response rate of its day
            report_figures.mark_tickets_changed([ticket])
        _announce(ticket, level, now)
    db.session.commit()
    return counts


def _announce(ticket: Ticket, level: str, now: datetime) -> None:
    if level == "amber":
        body = _("Ticket %(number)s has used 75%% of its time.", number=ticket.number)
    else:
        body = _("Ticket %(number)s is overdue.", number=ticket.number)
    notices.notify(f"sla_{level}", body, now, ticket=ticket, department_id=ticket.department_id)
    if level == "red":
        notices.notify("sla_red", body, now, ticket=ticket, role=Role.SUPERVISOR)


def _pending_or_conflict(ticket: Ticket) -> ExtensionRequest:
    request = pending_extension(ticket)
    if request is None:
        raise Conflict(_("Ticket %(number)s has no extension request waiting.", number=ticket.number))
    return request


def _required(text: str, message: str, field: str) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput(message, field=field)
    return value[:REASON_MAX]
