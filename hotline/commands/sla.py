"""`flask --app hotline sla due`: when is this due? For administrators checking a calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import CalendarDay, Category
from hotline.models.types import utcnow
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import missing_years, work_calendar

sla_cli = AppGroup("sla", help="SLA clocks on the working calendar.")

SPANS = {
    "working_days": lambda n, cal: sla.Span(n * cal.day_minutes, working=True),
    "working_hours": lambda n, cal: sla.Span(n * 60, working=True),
    "calendar_hours": lambda n, cal: sla.Span(n * 60, working=False),
    "calendar_minutes": lambda n, cal: sla.Span(n, working=False),
}


@sla_cli.command("due")
@click.option("--start", help='Local start time, "YYYY-MM-DD HH:MM" (default: now).')
@click.option("--working-days", type=click.FloatRange(min=0), help="Standard working days of office time.")
@click.option("--working-hours", type=click.FloatRange(min=0), help="Working hours of office time.")
@click.option("--calendar-hours", type=click.FloatRange(min=0), help="Hours of calendar time.")
@click.option("--calendar-minutes", type=click.FloatRange(min=0), help="Minutes of calendar time.")
@click.option("--category", help="Instead of a span: a category code, to use its policy.")
@click.option("--urgency", type=click.Choice(["normal", "urgent"]), default="normal", show_default=True)
def due_command(
    start: str | None,
    working_days: float | None,
    working_hours: float | None,
    calendar_hours: float | None,
    calendar_minutes: float | None,
    category: str | None,
    urgency: str,
) -> None:
    """Print when a clock started at START falls due, in the hotline's time zone."""
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    begin = _parse_start(start, zone)
    calendar = work_calendar()
    given = {
        "working_days": working_days,
        "working_hours": working_hours,
        "calendar_hours": calendar_hours,
        "calendar_minutes": calendar_minutes,
    }
    spans = {unit: amount for unit, amount in given.items() if amount is not None}
    if category:
        if spans:
            raise click.UsageError("give either a span or --category, not both")
        found = db.session.scalar(select(Category).where(Category.code == category))
        if found is None:
            raise click.UsageError(f"unknown category {category!r}")
        terms = sla.terms_for(found, urgency).as_dict()
        lines = [
            ("accept", sla.accept_span(terms), f"{terms['accept_amount']} {terms['accept_unit']}"),
            ("resolve", sla.resolve_span(terms, calendar), f"{terms['resolve_amount']} {terms['resolve_unit']}"),
        ]
        click.echo(f"policy: {terms['source']} ({urgency})")
    elif len(spans) == 1:
        unit, amount = next(iter(spans.items()))
        lines = [("due", SPANS[unit](amount, calendar), f"{amount:g} {unit}")]
    else:
        raise click.UsageError("give one of --working-days, --working-hours, --calendar-hours, --calendar-minutes")
    for label, span, text in lines:
        due = span.after(begin, calendar).astimezone(zone)
        click.echo(f"{label}: {due:%Y-%m-%d %H:%M} {zone.key}  ({text} from {begin.astimezone(zone):%Y-%m-%d %H:%M})")
    last = max(span.after(begin, calendar) for _, span, _ in lines).astimezone(zone)
    _explain(begin.astimezone(zone).date(), last.date())


def _parse_start(text: str | None, zone: ZoneInfo) -> datetime:
    if not text:
        return utcnow()
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise click.BadParameter('use "YYYY-MM-DD HH:MM"', param_hint="--start")


def _explain(first, last) -> None:
    """List the holidays and make-up workdays on the way, and warn about unknown years."""
    rows = db.session.scalars(
        select(CalendarDay).where(CalendarDay.day.between(first, last)).order_by(CalendarDay.day)
    ).all()
    for row in rows:
        kind = "holiday" if row.off else "make-up workday"
        click.echo(f"  {row.day:%Y-%m-%d} {kind} {row.name}".rstrip())
    years = list(range(first.year, last.year + 1))
    for year in missing_years(years):
        click.echo(f"  warning: no holiday list for {year}; Monday to Friday assumed", err=True)
