"""`flask --app hotline seed-load --tickets N`: millions of realistic past tickets, for benchmarks."""

from __future__ import annotations

import resource
import time
from datetime import date, datetime

import click

from hotline.demo import load_seed
from hotline.services.errors import ServiceError
from hotline.services.reporting import report_figures


@click.command("seed-load")
@click.option("--tickets", required=True, type=click.IntRange(1, 100_000_000), help="How many tickets to load.")
@click.option(
    "--days",
    default=load_seed.DEFAULT_DAYS,
    show_default=True,
    type=click.IntRange(1, 20_000),
    help="Over how many days.",
)
@click.option("--seed", default=load_seed.DEFAULT_SEED, show_default=True, type=int, help="Random seed.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="The last day (YYYY-MM-DD); default today.")
@click.option(
    "--batch", default=load_seed.BATCH, show_default=True, type=click.IntRange(1000, 1_000_000), help="Rows per commit."
)
@click.option("--no-rebuild", is_flag=True, help="Do not rebuild the report figures afterwards.")
def seed_load_command(tickets: int, days: int, seed: int, end: datetime | None, batch: int, no_rebuild: bool) -> None:
    """Load N realistic past tickets fast (bulk inserts, or COPY on PostgreSQL), for benchmarks.

    Loads the demo city first when there are no departments. Tickets are spread over DAYS
    local days up to END with realistic volumes, categories, clocks and statuses; they get
    no event trail (no TicketEvent rows) and numbers of the form LYYYYMMDD-NNNNNNN. Only into
    a database without loaded tickets. The report figures are rebuilt afterwards unless
    --no-rebuild is given (run `flask --app hotline reports rebuild` later then).
    """
    last_shown = [0.0]

    def progress(done: int, seconds: float) -> None:
        if seconds - last_shown[0] >= 5 or done == tickets:
            last_shown[0] = seconds
            rate = done / seconds if seconds else 0
            click.echo(f"{done:>12,} tickets  {seconds:7.1f} s  {rate:,.0f} rows/s")

    end_day: date | None = end.date() if end else None
    try:
        result = load_seed.load(tickets, days=days, seed=seed, end=end_day, batch=batch, progress=progress)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    if result.city_created:
        click.echo("no city found: loaded the demo city first (password for its users: see seed-demo)")
    statuses = ", ".join(f"{status} {count:,}" for status, count in sorted(result.by_status.items()))
    click.echo(
        f"loaded {result.tickets:,} tickets over {result.days} days in {result.seconds:.1f} s "
        f"({result.tickets / max(result.seconds, 1e-9):,.0f} rows/s); {result.returned:,} returned"
    )
    click.echo(f"by status: {statuses}")
    if no_rebuild:
        click.echo("report figures not rebuilt: run `flask --app hotline reports rebuild`")
        return
    started = time.perf_counter()
    rebuilt = report_figures.rebuild()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    click.echo(
        f"rebuilt {rebuilt.days} days, {rebuilt.rows} rows from {rebuilt.tickets} tickets "
        f"in {time.perf_counter() - started:.1f} s (peak memory {peak_mib:.0f} MiB)"
    )
