"""`flask --app hotline geo load-districts FILE.geojson | load-places FILE.csv`: the city's
district outlines and gazetteer (issue 18), checked whole: a file with any error loads nothing."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from hotline.services.city import geo_files

geo_cli = AppGroup("geo", help="The city's geography: district outlines (GeoJSON) and the gazetteer (CSV).")


def _report(result: geo_files.GeoLoadResult, what: str) -> None:
    if result.errors:
        for line in result.errors:
            click.echo(line, err=True)
        raise click.ClickException(f"{len(result.errors)} error(s): nothing was loaded")
    click.echo(f"{what}: {result.created} created, {result.updated} updated")


@geo_cli.command("load-districts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_districts_command(file: Path) -> None:
    """Store the outline of each district of FILE (a GeoJSON FeatureCollection; each feature's
    properties.code names a district of the directory)."""
    try:
        with file.open(encoding="utf-8-sig") as stream:
            result = geo_files.load_districts(stream)
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file}: not UTF-8 text ({error.reason})") from None
    _report(result, "district outlines")


@geo_cli.command("load-places")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's text encoding, e.g. gb18030.")
def load_places_command(file: Path, encoding: str) -> None:
    """Create or update the gazetteer from FILE (CSV: name, kind road/community/landmark, lat,
    long, district, unit)."""
    try:
        with file.open(encoding=encoding, newline="") as stream:
            result = geo_files.load_places(stream)
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file}: not {encoding} text ({error.reason}); try --encoding gb18030") from None
    _report(result, "places")
