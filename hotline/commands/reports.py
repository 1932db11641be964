"""`flask --app hotline reports rebuild|refresh`: the pre-aggregated report figures."""

from __future__ import annotations

import resource
import time
from datetime import date

import click
from flask.cli import AppGroup

from hotline.services.reporting import report_figures

reports_cli = AppGroup("reports", help="Pre-aggregated figures behind the supervisors' reports.")


@reports_cli.command("rebuild")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
def rebuild_command(quiet: bool) -> None:
    """Recompute every day's figures from the tickets, one day at a time."""
    started = time.perf_counter()

    def progress(day: date, rows: int) -> None:
        if not quiet and day.day == 1:
            click.echo(f"{day:%Y-%m}: aggregating")

    result = report_figures.rebuild(progress)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    click.echo(
        f"rebuilt {result.days} days, {result.rows} rows from {result.tickets} tickets "
        f"in {elapsed:.1f} s (peak memory {peak_mib:.0f} MiB)"
    )


@reports_cli.command("refresh")
def refresh_command() -> None:
    """Refresh the days whose tickets changed since the last refresh (the sweep does this
    every minute; a database never aggregated is rebuilt)."""
    days = report_figures.refresh_dirty(limit=100_000)
    click.echo(f"refreshed {days} days")
