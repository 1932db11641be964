"""`flask --app hotline search reindex`: rebuild the full-text search documents of every ticket."""

from __future__ import annotations

import resource
import time

import click
from flask.cli import AppGroup

from hotline.services.search import ticket_search

search_cli = AppGroup("search", help="The full-text search index of tickets.")


@search_cli.command("reindex")
@click.option("--batch", default=ticket_search.REINDEX_BATCH, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@click.option(
    "--full/--incremental",
    default=None,
    help="Rewrite every document in one transaction and build the index at the end (fast; until it "
    "ends, searches see the old index on SQLite and wait on PostgreSQL), or batch by batch (slower; "
    "searching keeps working). Default: full when no ticket is indexed yet, else incremental.",
)
def reindex_command(batch: int, quiet: bool, full: bool | None) -> None:
    """Rewrite every ticket's search document from its text (for tickets loaded around the
    application, or after a change in how text is prepared)."""
    started = time.perf_counter()
    shown = [0]

    def progress(read: int, written: int) -> None:
        if not quiet and read - shown[0] >= 100_000:
            shown[0] = read
            elapsed = time.perf_counter() - started
            click.echo(f"{read} tickets read, {written} documents written ({read / elapsed:,.0f} tickets/s)")

    read, written = ticket_search.reindex(batch=batch, progress=progress, full=full)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    rate = read / elapsed if elapsed else 0.0
    click.echo(
        f"reindexed {read} tickets ({written} documents written) in {elapsed:.1f} s, "
        f"{rate:,.0f} tickets/s (peak memory {peak_mib:.0f} MiB)"
    )
