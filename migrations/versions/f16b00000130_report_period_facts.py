"""report figures: rows of whole weeks and months, added up from the day rows (ten-year reports)

Revision ID: f16b00000130
Revises: f16a00000060
Create Date: 2026-12-05 13:30:00

A report over years reads the rows of its whole weeks or months (some 120 month rows per group
for ten years, fewer than a year of day rows) and the day rows at either end. The rows of every
period that already has day rows are added up here from those day rows (not from the tickets:
no rebuild needed); afterwards the refresh keeps them (services/reporting/report_figures.py).
"""

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f16b00000130"
down_revision = "f16a00000060"
branch_labels = None
depends_on = None

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
)
SECONDS = ("dispatch_seconds", "accept_seconds", "resolve_seconds")
HISTOGRAMS = ("dispatch_hist", "accept_hist", "resolve_hist")


def _columns() -> list[sa.Column]:
    return [
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Float(), nullable=False) for name in SECONDS),
        *(sa.Column(name, sa.LargeBinary(), nullable=False) for name in HISTOGRAMS),
    ]


def upgrade():
    op.create_table(
        "report_period_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_period_fact")),
        sa.UniqueConstraint("grain", "dim", "day", "key", name="uq_report_period_fact_grain_dim_day_key"),
    )
    _add_up_existing_days()


def _first(day: date, grain: str) -> date:
    return day - timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def _merged(blobs: list[bytes]) -> bytes:
    """The packed sum of packed histograms (little-endian int32 (bucket, count) pairs), as
    report_figures.merge_packed and pack_histogram make it."""
    data = b"".join(blobs)
    if not data:
        return b""
    pairs = np.frombuffer(data, dtype="<i4").reshape(-1, 2)
    totals = np.bincount(pairs[:, 0], weights=pairs[:, 1])
    buckets = np.nonzero(totals)[0]
    return np.column_stack((buckets, totals[buckets])).astype("<i4").tobytes()


def _add_up_existing_days() -> None:
    bind = op.get_bind()
    fact = sa.table(
        "report_fact",
        sa.column("day", sa.Date),
        sa.column("dim", sa.String),
        sa.column("key", sa.String),
        *(sa.column(name) for name in (*COUNTS, *SECONDS, *HISTOGRAMS)),
    )
    period = sa.table(
        "report_period_fact",
        sa.column("grain", sa.String),
        sa.column("day", sa.Date),
        sa.column("dim", sa.String),
        sa.column("key", sa.String),
        *(sa.column(name) for name in (*COUNTS, *SECONDS, *HISTOGRAMS)),
    )
    first, last = bind.execute(sa.select(sa.func.min(fact.c.day), sa.func.max(fact.c.day))).one()
    if first is None:
        return
    if isinstance(first, str):  # SQLite without the column's type: ISO text
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    month = first.replace(day=1)
    while month <= last:  # a month of day rows at a time: bounded memory
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        # The whole weeks that start in this month (a week's days may run into the next).
        low, high = month, following + timedelta(days=6)
        rows = bind.execute(sa.select(fact).where(fact.c.day >= low, fact.c.day < high)).mappings().all()
        for grain in ("week", "month"):
            sums: dict[tuple, dict] = {}
            blobs: dict[tuple, dict[str, list[bytes]]] = defaultdict(lambda: {name: [] for name in HISTOGRAMS})
            for row in rows:
                day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
                start = _first(day, grain)
                if not month <= start < following:
                    continue
                key = (start, row["dim"], row["key"])
                total = sums.setdefault(key, dict.fromkeys((*COUNTS, *SECONDS), 0))
                for name in (*COUNTS, *SECONDS):
                    total[name] += row[name]
                for name in HISTOGRAMS:
                    if row[name]:
                        blobs[key][name].append(bytes(row[name]))
            values = [
                {
                    "grain": grain,
                    "day": start,
                    "dim": dim,
                    "key": key,
                    **total,
                    **{name: _merged(blobs[(start, dim, key)][name]) for name in HISTOGRAMS},
                }
                for (start, dim, key), total in sums.items()
            ]
            if values:
                bind.execute(period.insert(), values)
        month = following


def downgrade():
    op.drop_table("report_period_fact")
