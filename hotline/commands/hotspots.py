"""`flask --app hotline hotspots detect [--window day|week|month]`: what the hourly job does, now."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.extensions import db
from hotline.models import Hotspot, HotspotWindow
from hotline.services.errors import ServiceError
from hotline.services.hotspot_detection import hotspots

hotspots_cli = AppGroup("hotspots", help="Hotspots: similar tickets in the same place (热点).")


@hotspots_cli.command("detect")
@click.option(
    "--window",
    "windows",
    multiple=True,
    type=click.Choice(HotspotWindow.ALL),
    help="The window to detect (repeatable); default: day, week and month.",
)
@click.option("--top", default=5, show_default=True, type=click.IntRange(0, 100), help="Hotspots to print per window.")
def detect_command(windows: tuple[str, ...], top: int) -> None:
    """Detect the hotspots of the last day, week and month (rolling, ending now) and print the largest."""
    from sqlalchemy import select

    for window in windows or HotspotWindow.ALL:
        try:
            result = hotspots.detect(window)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        click.echo(
            f"{window}: {result.tickets} tickets, {result.groups} groups, {result.hotspots} hotspots kept "
            f"({result.created} new, {result.updated} updated, {result.removed} removed) in {result.seconds:.1f} s"
        )
        largest = db.session.scalars(
            select(Hotspot)
            .where(Hotspot.window_kind == window, Hotspot.active.is_(True))
            .order_by(Hotspot.ticket_count.desc(), Hotspot.id)
            .limit(top)
        )
        for hotspot in largest:
            growth = "new" if hotspot.growth is None else f"{hotspot.growth:+.0%}"
            click.echo(f"  {hotspot.ticket_count:6d}  {growth:>6}  {hotspot.title}")
