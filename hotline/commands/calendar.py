"""`flask --app hotline calendar ...`: see and load the holiday calendar."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from hotline.services.clocks import calendar
from hotline.services.errors import ServiceError

calendar_cli = AppGroup("calendar", help="The holiday calendar (statutory holidays and make-up workdays).")


@calendar_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_command(file: Path) -> None:
    """Load a year's holidays from FILE in holiday-cn's JSON format; it replaces that year."""
    try:
        counts = calendar.load_year_json(file.read_bytes(), source=f"file:{file.name}")
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    for year, count in counts.items():
        click.echo(f"{year}: {count} days loaded")


@calendar_cli.command("seed")
def seed_command() -> None:
    """Load the years the chinesecalendar package knows and the table lacks."""
    click.echo(f"{calendar.seed_from_package()} days loaded")


@calendar_cli.command("show")
@click.argument("year", type=int)
def show_command(year: int) -> None:
    """List YEAR's holidays and make-up workdays."""
    if calendar.missing_years([year]):
        click.echo(f"warning: no holiday list for {year}; Monday to Friday assumed", err=True)
    for row in calendar.days_of_year(year):
        click.echo(f"{row.day:%Y-%m-%d} {'off ' if row.off else 'work'} {row.name} [{row.source}]")
