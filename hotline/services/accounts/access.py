"""Who may see and do what: the role checks every view and API route relies on."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from hotline.extensions import db
from hotline.models import Role, Status, Ticket, TicketAssist, TicketHold, User
from hotline.services.errors import NotFound, PermissionDenied

INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
DISPATCH_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REPORT_ROLES = (Role.SUPERVISOR, Role.ADMIN)
# Who decides on requests (extensions, late returns) and urges departments.
SUPERVISE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
# Who may list who viewed a ticket's personal data (the view log).
AUDIT_ROLES = (Role.SUPERVISOR, Role.ADMIN)
# Who calls citizens back after a ticket is resolved (回访, issue 17): the call centre.
CALLBACK_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)

# Confidential tickets (保密件: reports on officials, neighbours, employers) are for those who
# need them, and no one else: a leaked report can put the caller in danger.
#  - supervisors and administrators: all of them;
#  - the operator who logged it: to answer the caller's follow-up calls;
#  - dispatchers: only while it awaits dispatch (new, pending dispatch, or returned), to place it;
#  - department staff: the department holding it and the departments assisting on it (协办),
#    as for any ticket; they never see the caller's name (`masks_caller`).
# Other operators and dispatchers get "not found", as for another department's ticket.
CONFIDENTIAL_ROLES = (Role.SUPERVISOR, Role.ADMIN)
AWAITING_DISPATCH = (Status.NEW, Status.PENDING_DISPATCH)


def require_role(actor: User, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied(_("Your role may not do this."))


def visible_tickets(actor: User) -> Select[tuple[Ticket]]:
    """Department staff see their own department's tickets and those it assists on (协办);
    other roles see all, except confidential tickets (below)."""
    query = select(Ticket)
    if actor.role == Role.DEPARTMENT:
        assisting = select(TicketAssist.ticket_id).where(TicketAssist.department_id == actor.department_id)
        # Units in a tree (issue 17): the units of its chain (下派) see it too, while they are in it.
        chain = select(TicketHold.ticket_id).where(
            TicketHold.department_id == actor.department_id, TicketHold.ended_at.is_(None)
        )
        query = query.where(
            or_(Ticket.department_id == actor.department_id, Ticket.id.in_(assisting), Ticket.id.in_(chain))
        )
    elif actor.role == Role.OPERATOR:
        query = query.where(or_(Ticket.confidential.is_(False), Ticket.created_by_id == actor.id))
    elif actor.role == Role.DISPATCHER:
        query = query.where(or_(Ticket.confidential.is_(False), Ticket.status.in_(AWAITING_DISPATCH)))
    return query


def can_see(actor: User, ticket: Ticket) -> bool:
    """The same rules as `visible_tickets`, for a ticket already loaded."""
    if actor.role == Role.DEPARTMENT:
        if ticket.department_id is not None and ticket.department_id == actor.department_id:
            return True
        assisting = select(TicketAssist.id).where(
            TicketAssist.ticket_id == ticket.id, TicketAssist.department_id == actor.department_id
        )
        if db.session.scalar(assisting) is not None:
            return True
        # Units in a tree (issue 17): a unit of its chain (下派), while it is in it.
        chain = select(TicketHold.id).where(
            TicketHold.ticket_id == ticket.id,
            TicketHold.department_id == actor.department_id,
            TicketHold.ended_at.is_(None),
        )
        return db.session.scalar(chain.limit(1)) is not None
    if not ticket.confidential or actor.role in CONFIDENTIAL_ROLES:
        return True
    if actor.role == Role.OPERATOR:
        return ticket.created_by_id == actor.id
    if actor.role == Role.DISPATCHER:
        return ticket.status in AWAITING_DISPATCH
    return False


def masks_caller(actor: User) -> bool:
    return actor.role == Role.DEPARTMENT


def holder_id(ticket: Ticket) -> int | None:
    """The unit holding the ticket now: one it was sent down to (下派, issue 17), else the unit the
    city dispatched it to."""
    return ticket.holder_id if ticket.holder_id is not None else ticket.department_id


def require_own_department(actor: User, ticket: Ticket) -> None:
    """Department actions are for the staff of the department that holds the ticket (now)."""
    if actor.role != Role.DEPARTMENT or actor.department_id is None or holder_id(ticket) != actor.department_id:
        raise PermissionDenied(_("Only the department that holds this ticket may do this."))


def ticket_for(actor: User, number: str) -> Ticket:
    """The ticket with this number, if the actor may see it; 404 either way otherwise,
    so that department staff cannot probe other departments' numbers.

    Every look-up by number goes through here: the ticket in the address and a second one
    named in a form or body alike (a merge's parent), so that a ticket the actor may not see
    answers exactly as one that does not exist."""
    ticket = db.session.scalars(visible_tickets(actor).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(_("No ticket %(number)s.", number=number))
    return ticket


def shown(actor: User, ticket: Ticket | None) -> Ticket | None:
    """A related ticket (a parent, a call's ticket) as the actor may see it: itself, or None,
    as if there were none, so that a page never names a ticket its reader could not open."""
    if ticket is None or not can_see(actor, ticket):
        return None
    return ticket


def visible_numbers(actor: User, numbers: Iterable[str]) -> set[str]:
    """Those of these ticket numbers (named in events: a merge's parent or child) the actor may see."""
    wanted = {number for number in numbers if number}
    if not wanted:
        return set()
    return set(
        db.session.scalars(visible_tickets(actor).where(Ticket.number.in_(wanted)).with_only_columns(Ticket.number))
    )


# --- citizens ---------------------------------------------------------------------------------
# A citizen (the public status page, an SMS status reply, a text when their ticket is answered)
# sees their own ticket, and of a ticket it was merged into only what is theirs as well.

MAX_PARENT_HOPS = 5


def citizen_may_follow(own: Ticket, related: Ticket) -> bool:
    """Whether the citizen who filed `own` may follow `related` (the ticket it was merged into):
    only a ticket of their own (the same phone) that is not confidential. Another citizen's
    ticket, or a confidential one, shows them nothing of itself: department, dates, reply."""
    if related is own:
        return True
    return not related.confidential and bool(own.caller_phone) and related.caller_phone == own.caller_phone


def answering_for_citizen(ticket: Ticket) -> Ticket | None:
    """The ticket whose progress answers to the citizen who filed `ticket`: itself, or the ticket
    it was merged into (and on up) when that is theirs too; None when it was merged into a
    ticket they may not follow, who then get a neutral message with their own number."""
    current = ticket
    for _hop in range(MAX_PARENT_HOPS):
        if current.status != Status.MERGED or current.parent is None:
            break
        current = current.parent
    return current if citizen_may_follow(ticket, current) else None
