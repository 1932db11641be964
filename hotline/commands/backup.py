"""`flask --app hotline backup FILE` and `restore FILE`: the database to one file and back
(hotline/services/platform/backup.py; docs/production.md, "Backups and recovery")."""

from __future__ import annotations

from pathlib import Path

import click

from hotline.services.platform import backup


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Back up the database to FILE while the hotline runs: SQLite's online backup of the file,
    or pg_dump's custom format for PostgreSQL. FILE is replaced only by a complete backup."""
    try:
        summary = backup.backup(file)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from None
    for line in summary.lines("backed up to"):
        click.echo(line)


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database even though it holds data.")
def restore_command(file: Path, force: bool) -> None:
    """Replace the database by the backup in FILE (made by `backup`). Stop the web processes
    and the workers first. Refused when the database holds data, unless --force."""
    try:
        summary = backup.restore(file, force=force)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from None
    for line in summary.lines("restored from"):
        click.echo(line)
    click.echo("then: flask --app hotline db upgrade (if the backup is from an older release), start the hotline")
