"""`flask --app hotline files check`: the attachments' file store (a folder, or S3) takes, gives
back and deletes a file with this machine's settings and credentials (docs/production.md §12)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.services.errors import ServiceError
from hotline.services.platform import file_store

files_cli = AppGroup("files", help="The attachments' file store (a local folder or S3-compatible storage).")


@files_cli.command("check")
def check_command() -> None:
    """Write a small file to the store, read it back and delete it."""
    where = file_store.describe(file_store.store())
    try:
        file_store.round_trip()
    except ServiceError as error:
        raise click.ClickException(f"{where}: {error.message} (details in the log)") from None
    click.echo(f"file store OK: {where}")
