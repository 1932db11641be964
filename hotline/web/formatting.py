"""Template filters and helpers: times in the hotline's time zone, badges, deadlines, figures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from hotline.models import Status, Ticket
from hotline.models.types import utcnow
from hotline.services import access, phones

# Bootstrap colour per status: what needs someone's action stands out.
STATUS_COLOURS = {
    Status.NEW: "light",
    Status.PENDING_DISPATCH: "warning",
    Status.DISPATCHED: "info",
    Status.IN_PROGRESS: "primary",
    Status.WAITING: "secondary",
    Status.RESOLVED: "success",
    Status.CLOSED: "dark",
    Status.MERGED: "light",
}

# Share of the resolve time used after which a deadline shows amber, where the SLA
# engine has not set the amber time itself (it counts working time).
DUE_SOON_FRACTION = 0.75


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).strftime(fmt)


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "secondary")


def deadline_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """'overdue', 'soon' or 'ok' for an open ticket with a resolve deadline; None otherwise."""
    if not ticket.is_open or ticket.resolve_due_at is None:
        return None
    now = now or utcnow()
    due = ticket.resolve_due_at
    if due < now:
        return "overdue"
    if ticket.resolve_amber_at is not None:
        return "soon" if now >= ticket.resolve_amber_at else "ok"
    start = ticket.dispatched_at
    if start is not None and due > start and (now - start) / (due - start) >= DUE_SOON_FRACTION:
        return "soon"
    return "ok"


def caller_phone(ticket: Ticket) -> str:
    """The caller's number as the current user may see it: masked for department staff."""
    if current_user.is_authenticated and access.masks_caller(current_user):
        return phones.mask_phone(ticket.caller_phone)
    return phones.display_phone(ticket.caller_phone)


def number(value: float | None, digits: int = 1) -> str:
    """A figure for a report cell; a dash where there is nothing to measure."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        status_colour=status_colour,
        deadline_state=deadline_state,
        caller_phone=caller_phone,
        figure=number,
        percent=percent,
    )
