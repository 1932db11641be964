"""`flask --app hotline directory load FILE | export [FILE]`: the city's departments,
districts and category tree (with each category's default department) as a CSV file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from hotline.services.city import directory_file

directory_cli = AppGroup("directory", help="The city's departments, districts and category tree, as a CSV file.")


@directory_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's text encoding, e.g. gb18030.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what it would do; save nothing.")
def load_command(file: Path, encoding: str, dry_run: bool) -> None:
    """Create or update, by code, every row of FILE (columns: kind, code, name, parent,
    department). Nothing is deleted. A file with any error loads nothing: each is listed."""
    try:
        with file.open(encoding=encoding, newline="") as stream:
            result = directory_file.load(stream, dry_run=dry_run)
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file}: not {encoding} text ({error.reason}); try --encoding gb18030") from None
    if result.errors:
        for line in result.errors:
            click.echo(line, err=True)
        raise click.ClickException(f"{len(result.errors)} error(s): nothing was loaded")
    for kind in directory_file.KINDS:
        click.echo(
            f"{kind}: {result.created[kind]} {'to create' if dry_run else 'created'}, "
            f"{result.updated[kind]} updated, {result.unchanged[kind]} {'known' if dry_run else 'unchanged'}"
        )
    if dry_run:
        click.echo("dry run: nothing was saved")


@directory_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=False)
def export_command(file: Path | None) -> None:
    """Write the directory as CSV to FILE (default: standard output), as `load` reads it."""
    text = directory_file.export()
    if file is None:
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {file}")
