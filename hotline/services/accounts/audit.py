"""The privacy audit: who saw which ticket's personal data, the log of role changes, and the
failed logins that supervisors watch.

A view is recorded whenever a page, an API answer or an export shows a ticket's caller (the
name, or the number unmasked) or a confidential ticket's content; the ticket page and the
ticket API record every view, with or without personal data, so that a supervisor can tell
everyone who opened it. Rows are written in the request's own transaction, and the view
commits before it answers: a page whose viewing could not be recorded is not shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import delete, func, insert, select

from hotline.extensions import db
from hotline.models import FailedLogin, RoleChange, Ticket, User, ViewChannel, ViewKind, ViewRecord
from hotline.models.types import utcnow
from hotline.services.accounts import access

ADDRESS_MAX = 64


def shown(viewer: User, ticket: Ticket, *, name: bool = True) -> str:
    """What personal data of `ticket` a page shows `viewer`, the most sensitive first.

    `name=False` for lists, which show the number but not the name."""
    if ticket.confidential:
        return ViewKind.CONFIDENTIAL
    if ticket.caller_phone and not access.masks_caller(viewer):
        return ViewKind.CALLER
    if name and ticket.caller_name:  # department staff see a non-confidential caller's name
        return ViewKind.CALLER
    return ViewKind.TICKET


def record_view(viewer: User, ticket: Ticket, via: str) -> None:
    """One view of one ticket (its page, its API answer), whatever it showed; commits."""
    db.session.add(view_record(viewer, ticket, via))
    db.session.commit()


def view_record(
    viewer: User, ticket: Ticket, via: str, *, what: str | None = None, reason: str = "", at: datetime | None = None
) -> ViewRecord:
    """The row of one view, from the request being answered; the caller adds it to the session
    (a number revealed with a reason is logged in the transaction of its action)."""
    return ViewRecord(
        ticket_id=ticket.id,
        user_id=viewer.id,
        at=at or utcnow(),
        what=what or shown(viewer, ticket),
        via=via,
        reason=reason,
        remote_addr=_address(),
    )


def record_list(viewer: User, tickets: Iterable[Ticket], via: str, *, name: bool = False, caller: bool = True) -> int:
    """A list (a page of tickets, an export): one row for each ticket whose personal data it
    showed, in one insert; commits. Returns the number of rows.

    `caller=False` for lists that show no caller at all (search results): only confidential
    tickets' lines, whose text they show, are recorded."""
    now, address = utcnow(), _address()
    rows = []
    for ticket in tickets:
        what = shown(viewer, ticket, name=name)
        if what == ViewKind.CALLER and not caller:
            continue
        if what != ViewKind.TICKET:
            rows.append(
                {
                    "ticket_id": ticket.id,
                    "user_id": viewer.id,
                    "at": now,
                    "what": what,
                    "via": via,
                    "remote_addr": address,
                }
            )
    if rows:
        db.session.execute(insert(ViewRecord), rows)
    db.session.commit()
    return len(rows)


def _address() -> str:
    if not has_request_context():  # an export made by a job or the command line
        return ""
    return (request.remote_addr or "")[:ADDRESS_MAX]


@dataclass(frozen=True)
class ViewPage:
    records: list[ViewRecord]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def views_of(ticket: Ticket, page: int = 1, per_page: int = 100) -> ViewPage:
    """Who viewed the ticket, newest first."""
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(ViewRecord).where(ViewRecord.ticket_id == ticket.id))
    records = list(
        db.session.scalars(
            select(ViewRecord)
            .where(ViewRecord.ticket_id == ticket.id)
            .order_by(ViewRecord.at.desc(), ViewRecord.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return ViewPage(records=records, total=total or 0, page=page, per_page=per_page)


def role_changes(page: int = 1, per_page: int = 100, user: User | None = None) -> tuple[list[RoleChange], int]:
    """The administrators' log of role changes, newest first (of one user, when given), and its size."""
    page = max(1, page)
    query, counting = select(RoleChange), select(func.count()).select_from(RoleChange)
    if user is not None:
        query = query.where(RoleChange.user_id == user.id)
        counting = counting.where(RoleChange.user_id == user.id)
    total = db.session.scalar(counting) or 0
    rows = list(
        db.session.scalars(
            query.order_by(RoleChange.at.desc(), RoleChange.id.desc()).limit(per_page).offset((page - 1) * per_page)
        )
    )
    return rows, total


# Failed logins are kept this long, and the supervisors' page shows this many days of them.
FAILED_LOGIN_KEEP_DAYS = 90
FAILED_LOGIN_SHOWN_DAYS = 7
FAILED_LOGIN_ROWS = 500


def record_failed_login(username: str, address: str) -> None:
    """One failed login; commits. A name that is no account is stored masked (it may be a
    password typed in the name field); rows older than FAILED_LOGIN_KEEP_DAYS go."""
    name = (username or "").strip()
    known = bool(name) and db.session.scalar(select(User.id).where(User.username == name)) is not None
    now = utcnow()
    db.session.execute(delete(FailedLogin).where(FailedLogin.at < now - timedelta(days=FAILED_LOGIN_KEEP_DAYS)))
    db.session.add(
        FailedLogin(
            at=now,
            username=name[:80] if known else mask_name(name),
            known=known,
            remote_addr=(address or "")[:ADDRESS_MAX],
        )
    )
    db.session.commit()


def mask_name(name: str) -> str:
    return f"{name[:2]}***" if name else ""


@dataclass(frozen=True)
class FailedLogins:
    """Failures of one name from one address within the days shown."""

    username: str
    known: bool
    remote_addr: str
    count: int
    first: datetime
    last: datetime


def failed_logins(days: int = FAILED_LOGIN_SHOWN_DAYS, limit: int = FAILED_LOGIN_ROWS) -> list[FailedLogins]:
    """The failed logins of the last `days`, per name and address, the latest first."""
    last = func.max(FailedLogin.at)
    query = (
        select(
            FailedLogin.username,
            FailedLogin.known,
            FailedLogin.remote_addr,
            func.count(),
            func.min(FailedLogin.at),
            last,
        )
        .where(FailedLogin.at >= utcnow() - timedelta(days=days))
        .group_by(FailedLogin.username, FailedLogin.known, FailedLogin.remote_addr)
        .order_by(last.desc(), FailedLogin.username, FailedLogin.remote_addr)
        .limit(limit)
    )
    return [FailedLogins(*row) for row in db.session.execute(query)]


__all__ = [
    "ViewChannel",
    "ViewKind",
    "failed_logins",
    "record_failed_login",
    "record_list",
    "record_view",
    "role_changes",
    "shown",
    "views_of",
]
