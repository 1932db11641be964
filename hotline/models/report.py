"""Pre-aggregated report figures: one row per local day × dimension × key.

A ticket counts on the local day it was created (in the hotline's time zone) once
per dimension: under its lead department, under its category and every ancestor
of it, its district, its channel and its type, and under the whole city ("all").
Durations are kept as sparse histograms (services/reporting/report_figures.py) so that
medians and percentiles over any range of days merge without reading tickets.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow

DIMENSIONS = ("all", "department", "category", "district", "channel", "type", "operator")
# The counters of a fact row, in the order the refresh writes them.
COUNTS = (
    "received",
    "dispatched",
    "accepted",
    "accept_decided",
    "accepted_on_time",
    "resolved",
    "resolve_with_due",
    "resolved_on_time",
    "open",
    "direct_answers",
    "returned",
    "reopened",
    "rated",
    "satisfied",
    # First contact with the citizen (issue 17): contacted, or past its deadline; contacted by it.
    "contact_decided",
    "contacted_on_time",
)
# The first-contact clock (issue 17): dispatched → first contacted.
CLOCKS = ("dispatch", "accept", "resolve", "contact")


class _FactColumns:
    """The figures of a fact row: counters, sums of seconds and packed histograms."""

    received: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    accept_decided: Mapped[int] = mapped_column(Integer, default=0)  # accepted, or past the deadline
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolve_with_due: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    direct_answers: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    # Sums of seconds, for exact means; histograms of minutes for the percentiles, packed as
    # little-endian int32 (bucket, count) pairs (report_figures.pack_histogram): a month of
    # rows per category merges in C with numpy, where JSON took seconds.
    dispatch_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    accept_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    resolve_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    dispatch_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    accept_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    resolve_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # First contact with the citizen (issue 17; migration f17b00000010).
    contact_decided: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    contacted_on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    contact_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    contact_hist: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class ReportFact(_FactColumns, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    dim: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(64))  # the code; "" where the ticket has none

    __table_args__ = (
        UniqueConstraint("day", "dim", "key", name="uq_report_fact_day_dim_key"),
        Index("ix_report_fact_dim_day", "dim", "day"),
    )


GRAINS = ("week", "month")


class ReportPeriodFact(_FactColumns, db.Model):
    """The day rows of a whole week (from Monday) or calendar month added up: ten years of
    figures read about 520 week rows or 120 month rows per group, fewer than a year of days.
    Rebuilt from the day rows whenever one of its days is refreshed (report_figures)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[str] = mapped_column(String(5))  # "week" or "month"
    day: Mapped[date] = mapped_column(Date)  # the period's first day
    dim: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("grain", "dim", "day", "key", name="uq_report_period_fact_grain_dim_day_key"),)


class ReportDirtyDay(db.Model):
    """A local day whose figures changed since they were last aggregated.

    Written in the same transaction as the ticket change, so no change is ever lost;
    `generation` grows with each mark, and the refresh deletes a mark only if it did
    not grow meanwhile (a change committed during the refresh is refreshed again).
    """

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportState(db.Model):
    """When the figures were last refreshed (one row, id 1): shown on the dashboard."""

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MisroutingFact(db.Model):
    """The misrouting report's counts (`reports.misrouting`) of the tickets created on one local
    day, per routing (`routed_by` and the rule) and category: kept with the day's figures by the
    report refresh, summed for a range. Counted as asked, a month is 411,000 tickets at
    10,000,000 (0.3 to 0.5 s); summed, some thousand rows."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    routed_by: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(Integer)
    routed: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    reassigned: Mapped[int] = mapped_column(Integer, default=0)
    ping_pong: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_misrouting_fact_day", "day"),)
