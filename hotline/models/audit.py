"""Audit trails for privacy: who viewed a ticket's personal data, and who changed whose role.

Both tables are append-only: rows are written in the request that does the viewing or the
change, and never edited, so that a leak can be traced to the people who saw the report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class ViewKind:
    """What personal data a view showed, the most sensitive first."""

    CONFIDENTIAL = "confidential"  # a confidential ticket's content (and its caller)
    CALLER = "caller"  # the caller's name, or the number unmasked
    TICKET = "ticket"  # the ticket without personal data (masked number, no name)
    ALL = (CONFIDENTIAL, CALLER, TICKET)


class ViewChannel:
    PAGE = "page"  # the ticket page
    LIST = "list"  # a list page (tickets, search) that shows callers' numbers
    API = "api"
    EXPORT = "export"  # a downloaded report file
    REVEAL = "reveal"  # the caller's number shown to unit staff, with a reason (issue 17)
    ALL = (PAGE, LIST, API, EXPORT, REVEAL)


class ViewRecord(db.Model):
    """One user seeing one ticket's personal data once: who, when, what and how."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    what: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(10))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    # Why unit staff revealed the caller's number (issue 17); empty for an ordinary view.
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    ticket: Mapped[Ticket] = relationship()
    user: Mapped[User] = relationship()

    # "Who viewed this ticket", newest first: the one question asked of this table.
    __table_args__ = (Index("ix_view_record_ticket_at", "ticket_id", "at"),)


class RoleChangeAction:
    """What an entry of the log of role changes records."""

    ROLE = "role"  # role, department or activity changed
    CREATED = "created"  # the user was made (old_* are empty)
    PASSWORD = "password"  # an administrator reset the password (role unchanged; the password is never kept)
    ALL = (ROLE, CREATED, PASSWORD)


class RoleChange(db.Model):
    """An administrator's (or the command line's) change to a user's role, department or activity,
    the user's creation, or a password reset by an administrator (`action`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # None: made on the command line (`flask users set-role`), where there is no signed-in user.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    old_role: Mapped[str] = mapped_column(String(20))
    new_role: Mapped[str] = mapped_column(String(20))
    # Department codes as they were: a department renamed or removed later does not rewrite history.
    old_department: Mapped[str] = mapped_column(String(64), default="")
    new_department: Mapped[str] = mapped_column(String(64), default="")
    old_active: Mapped[bool] = mapped_column(default=True)
    new_active: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(10), default="web")  # web | cli
    action: Mapped[str] = mapped_column(String(20), default=RoleChangeAction.ROLE, server_default=RoleChangeAction.ROLE)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])


class FailedLogin(db.Model):
    """One failed login (wrong password, or no such user), for supervisors to see who is tried
    from where. A name that is no account is kept masked: it may be a password typed in the
    wrong field."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    known: Mapped[bool] = mapped_column(default=False)  # the name is an account's
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
