"""`flask --app hotline import-csv FILE`: import a city's ticket history from its old system."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from hotline.services.errors import ServiceError
from hotline.services.history_import import importing
from hotline.services.history_import.import_mapping import KEYS, PRESETS, REQUIRED_KEYS, build_mapping

ERRORS_SHOWN = 50
PROGRESS_EVERY = 5000  # rows


def _keys_help() -> str:
    lines = (f"  {key}{' (required)' if key in REQUIRED_KEYS else ''}: {text}" for key, text in KEYS.items())
    return "\b\nKeys of --map:\n" + "\n".join(lines)


@click.command("import-csv", epilog=_keys_help())
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A known export format, e.g. nyc311.")
@click.option(
    "--map",
    "specs",
    multiple=True,
    metavar="KEY=COLUMN,...",
    help="Which column holds each key (over the preset's, if any); see the keys below.",
)
@click.option(
    "--date-format", metavar="FORMAT", help="strptime format of the times, e.g. %d.%m.%Y %H:%M (default ISO 8601)."
)
@click.option("--tz", metavar="ZONE", help="IANA time zone of the times (default the preset's, else the hotline's).")
@click.option("--source", metavar="NAME", help="Name of the old system, prefix of the numbers (default from the file).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's text encoding, e.g. gb18030.")
@click.option("--delimiter", default=",", show_default=True, help="The field separator, e.g. ';'.")
@click.option("--dry-run", is_flag=True, help="Read and check every row, save nothing.")
def import_csv_command(
    file: Path,
    preset: str | None,
    specs: tuple[str, ...],
    date_format: str | None,
    tz: str | None,
    source: str | None,
    encoding: str,
    delimiter: str,
    dry_run: bool,
) -> None:
    """Import the tickets of a CSV export FILE. Rows already imported (same source and id) are
    skipped; rows that cannot be read are listed with their line number and the rest import."""
    try:
        mapping = build_mapping(
            preset, specs, date_format, tz, source, file, default_tz=current_app.config["HOTLINE_TIMEZONE"]
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    times = mapping.date_format or "ISO 8601"
    click.echo(f"importing {file.name} as source {mapping.source} (times {times} in {mapping.tz})")
    shown = {"rows": 0}

    def progress(result: importing.ImportResult) -> None:
        if result.rows - shown["rows"] >= PROGRESS_EVERY:
            shown["rows"] = result.rows
            click.echo(f"{_counts(result)}")

    try:
        result = importing.import_csv(
            file, mapping, encoding=encoding, delimiter=delimiter, dry_run=dry_run, progress=progress
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{'dry run, nothing saved: ' if dry_run else 'done: '}{_counts(result)}")
    created = (
        f"{result.departments_created} departments, {result.categories_created} categories, "
        f"{result.districts_created} districts"
    )
    click.echo(f"{'would create' if dry_run else 'created'} {created}")
    if not dry_run:
        click.echo(f"report figures refreshed for {result.report_days} days")
    for line, reason in result.errors[:ERRORS_SHOWN]:
        click.echo(f"line {line}: {reason}")
    if len(result.errors) > ERRORS_SHOWN:
        click.echo(f"... and {len(result.errors) - ERRORS_SHOWN} more")
    if result.errors and not result.imported and not result.already_imported:
        raise click.ClickException("no row could be imported: check the mapping, --date-format and --tz")


def _counts(result: importing.ImportResult) -> str:
    return (
        f"{result.rows} rows read: {result.imported} imported, {result.already_imported} already imported, "
        f"{len(result.errors)} refused"
    )
