"""Backing up a hotline's database to one file, and restoring it (`flask --app hotline backup
FILE`, `restore FILE`); docs/production.md ("Backups and recovery") says how to run them.

SQLite: SQLite's online backup API copies the live file page by page, in one step, inside one
read transaction: with the write-ahead log, writers go on while it runs and the copy is the
database as of the step's start, consistent. The copy is written beside FILE, checked
(`PRAGMA quick_check`) and renamed onto FILE, so that FILE is always a whole backup.

A restore copies FILE back with the same API into the database file itself, rather than
renaming a copy over it: a process still holding the old file open would keep writing to the
replaced inode (lost), and a write-ahead log left beside the file would be replayed into the
restored pages (corrupt); SQLite's own copy goes through its locks and its log, atomically. It
holds the write turn (write_turns) and SQLite's write lock meanwhile, so that nothing writes
halfway through. The web processes and workers must still be stopped first (the command cannot
see them): their caches, and the ticket ids queued in Redis, describe the data being replaced.

PostgreSQL: `pg_dump --format=custom` (one consistent snapshot; intake is not blocked) and
`pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction`: a restore
that fails changes nothing. The connection comes from DATABASE_URL, given to the child as
libpq environment variables (PGPASSWORD included), never on its command line, where any user
of the machine could read it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from hotline.extensions import db
from hotline.services.errors import ServiceError
from hotline.services.platform import write_turns

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
PG_BINDIR_SETTING = "HOTLINE_PG_BINDIR"  # where pg_dump and pg_restore are, when not found alone
# libpq's connection parameters that a URL's query can carry, and their environment variables.
LIBPQ_QUERY_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
# The city's own data: a database with rows in any of these is not empty (a migrated database
# is: the migrations fill only reference tables such as the holiday calendar).
CITY_TABLES = ("department", "district", "category", "user", "ticket")


class BackupError(ServiceError):
    """A backup or restore that could not be done, with what to do about it."""


@dataclass
class Summary:
    kind: str  # "sqlite" or "postgresql"
    path: Path
    bytes: int
    seconds: float
    revision: str | None = None  # the schema's migration (alembic_version) in the file
    rows: dict[str, int] = field(default_factory=dict)  # SQLite: rows per table
    tables: int = 0

    def lines(self, verb: str) -> list[str]:
        size = f"{self.bytes / 1_048_576:,.1f} MiB" if self.bytes >= 1_048_576 else f"{self.bytes:,} bytes"
        counted = f"{self.tables} tables"
        if self.rows:
            counted += f", {sum(self.rows.values()):,} rows"
        lines = [f"{verb} {self.path} ({self.kind}): {counted}, {size}, in {self.seconds:.1f} s"]
        if self.rows:
            lines.append(", ".join(f"{name} {count:,}" for name, count in sorted(self.rows.items()) if count))
        if self.revision:
            lines.append(f"schema revision {self.revision}")
        return lines


def backup(path: Path) -> Summary:
    """Write a backup of the app's database to `path` (replaced whole, or left as it was)."""
    started = time.monotonic()
    url = db.engine.url
    db.session.remove()  # nothing of ours open while the copy runs
    if url.get_backend_name() == "sqlite":
        summary = _backup_sqlite(_sqlite_path(url, must_exist=True), path)
    elif url.get_backend_name() == "postgresql":
        summary = _backup_postgresql(url, path)
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database: SQLite and PostgreSQL only")
    summary.seconds = time.monotonic() - started
    return summary


def restore(path: Path, force: bool = False) -> Summary:
    """Replace the app's database by the backup in `path`. Refused unless the database is empty
    (no departments, districts, categories, users or tickets) or `force` is given."""
    started = time.monotonic()
    kind = backup_kind(path)
    url = db.engine.url
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(
            f"{path} is a {_KIND_NAMES[kind]} backup and this database is {_KIND_NAMES.get(backend, backend)}: "
            f"restore it with DATABASE_URL naming a {_KIND_NAMES[kind]} database"
        )
    if not force:
        present = _city_data()
        if present:
            raise BackupError(
                f"the database is not empty ({present}): restore into an empty database, "
                "or give --force to replace everything in it"
            )
    db.session.remove()
    db.engine.dispose()  # PostgreSQL: no connection of ours holds a lock that the restore's DROPs wait for
    if kind == "sqlite":
        summary = _restore_sqlite(path, _sqlite_path(url, must_exist=False))
    else:
        summary = _restore_postgresql(url, path)
    db.engine.dispose()  # connections opened before the restore saw the old data
    summary.seconds = time.monotonic() - started
    return summary


_KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def backup_kind(path: Path) -> str:
    """Which kind of backup `path` is, from its first bytes: "sqlite", or "postgresql" (pg_dump's
    custom format)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file") from None
    except OSError as error:
        raise BackupError(f"{path}: cannot read it ({error.strerror})") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a Hotline backup: neither an SQLite database nor a pg_dump custom-format "
        "archive (a plain SQL dump is restored with psql, not with this command)"
    )


def _city_data() -> str:
    """What the app's database holds of the city's own data ("12 department, 300 ticket"), or ""."""
    try:
        names = set(inspect(db.engine).get_table_names())
    except SQLAlchemyError as error:
        raise BackupError(f"cannot open the database to restore into: {_first_line(error)}") from None
    if not names - {"alembic_version"}:
        return ""  # a new database, before its migrations
    counts = []
    with db.engine.connect() as connection:
        for name in CITY_TABLES:
            if name not in names:
                return f"tables of another schema: {', '.join(sorted(names)[:5])}"
            count = connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            if count:
                counts.append(f"{count} {name}")
    return ", ".join(counts)


# SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(url: URL, must_exist: bool) -> Path:
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("the database is in memory (DATABASE_URL=sqlite://): there is no file to back up or restore")
    path = Path(url.database).resolve()
    if must_exist and not path.is_file():
        raise BackupError(f"the database file {path} does not exist")
    return path


def _backup_sqlite(source: Path, path: Path) -> Summary:
    if path.resolve() == source:
        raise BackupError(f"{path} is the database itself: name another file")
    partial = _partial_path(path)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(partial)) as copy:
            # One step (pages=-1): the whole copy under one read transaction, so writers that commit
            # meanwhile (WAL) neither restart it nor end up half in it.
            live.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            _check_sqlite(copy, partial)
            rows, revision = _sqlite_contents(copy)
        _replace(partial, path)
    except sqlite3.Error as error:
        raise BackupError(f"backup of {source} failed: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Summary("SQLite", path, path.stat().st_size, 0.0, revision, rows, len(rows))


def _restore_sqlite(path: Path, target: Path) -> Summary:
    if path.resolve() == target:
        raise BackupError(f"{path} is the database itself, not a backup of it")
    try:
        backup_file = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{path}: cannot open it as SQLite ({error})") from None
    with closing(backup_file):
        try:
            _check_sqlite(backup_file, path)
            rows, revision = _sqlite_contents(backup_file)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is damaged: {error}") from None
        if revision is None:
            raise BackupError(f"{path} is an SQLite database but not a Hotline one (no alembic_version)")
        with write_turns.write_turn(), closing(sqlite3.connect(target, timeout=30)) as live:
            try:
                # Into the live file through SQLite, in one step: atomic, and no stale -wal survives it.
                backup_file.backup(live, pages=-1)
            except sqlite3.Error as error:
                raise BackupError(f"restore into {target} failed, nothing was changed: {error}") from None
    return Summary("SQLite", path, path.stat().st_size, 0.0, revision, rows, len(rows))


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} is damaged (SQLite quick_check: {'; '.join(problems[:3])})")


def _sqlite_contents(connection: sqlite3.Connection) -> tuple[dict[str, int], str | None]:
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    rows = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    revision = None
    if "alembic_version" in rows:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = found[0] if found else None
    return rows, revision


def _partial_path(path: Path) -> Path:
    """Where the backup is written before it is complete: beside `path` (same file system, so
    that the rename is atomic), refused early when the folder is missing or not writable."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise BackupError(f"no folder {folder} to write {path.name} into")
    if not os.access(folder, os.W_OK):
        raise BackupError(f"cannot write into {folder} (permission denied)")
    if path.is_dir():
        raise BackupError(f"{path} is a directory: name the backup file")
    return folder / f".{path.name}.partial-{os.getpid()}"


def _replace(partial: Path, path: Path) -> None:
    with partial.open("rb") as stream:
        os.fsync(stream.fileno())  # on disk before its name says it is the backup
    os.replace(partial, path)
    directory = os.open(path.resolve().parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# PostgreSQL -----------------------------------------------------------------------------------


def _backup_postgresql(url: URL, path: Path) -> Summary:
    partial = _partial_path(path)
    pg_dump = _pg_tool("pg_dump", _server_major())
    try:
        _run([pg_dump, "--format=custom", f"--file={partial}", f"--dbname={_conninfo(url)}"], url, "pg_dump")
        tables, revision = _archive_contents(partial, url)
        _replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Summary("PostgreSQL", path, path.stat().st_size, 0.0, revision, tables=tables)


def _restore_postgresql(url: URL, path: Path) -> Summary:
    tables, revision = _archive_contents(path, url)
    if revision is None:
        raise BackupError(f"{path} is a pg_dump archive but not of a Hotline database (no alembic_version)")
    _refuse_other_sessions()
    pg_restore = _pg_tool("pg_restore", _server_major())
    _run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction"]
        + [f"--dbname={_conninfo(url)}", str(path)],
        url,
        "pg_restore",
        failed="nothing was changed (one transaction)",
    )
    return Summary("PostgreSQL", path, path.stat().st_size, 0.0, revision, tables=tables)


def _refuse_other_sessions() -> None:
    """A session inside a transaction (a web process or worker still running, a console left
    open) would make the restore's DROP TABLE wait for it without end (the dump sets lock_timeout
    to 0): refuse rather than hang. Idle sessions block nothing."""
    others = text(
        "SELECT count(*), string_agg(DISTINCT coalesce(nullif(application_name, ''), host(client_addr), 'local'), ', ')"
        " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend' AND state <> 'idle'"
    )
    with db.engine.connect() as connection:
        count, who = connection.execute(others).one()
    db.engine.dispose()
    if count:
        raise BackupError(
            f"{count} other sessions are busy in the database ({who}): stop the hotline's web processes "
            "and workers (and close other sessions) first; nothing was changed"
        )


def _archive_contents(path: Path, url: URL) -> tuple[int, str | None]:
    """The archive's table count and schema revision, read by `pg_restore` (which also checks
    that the archive can be read at all) without a database."""
    pg_restore = _pg_tool("pg_restore", None)
    listing = _run([pg_restore, "--list", str(path)], url, "pg_restore --list", failed=f"{path} is damaged")
    tables = sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
    if not re.search(r" TABLE DATA \S+ alembic_version ", listing):
        return tables, None
    script = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], url, "pg_restore")
    found = re.search(r"^COPY \S*alembic_version .*?\n(\w+)\n", script, re.MULTILINE)
    return tables, found.group(1) if found else None


def _server_major() -> int:
    try:
        number = db.session.execute(text("SHOW server_version_num")).scalar_one()
    except SQLAlchemyError as error:
        raise BackupError(f"cannot reach the database: {_first_line(error)}") from None
    finally:
        db.session.remove()
    return int(number) // 10000


def _pg_tool(name: str, server_major: int | None) -> str:
    """The path of `name` (pg_dump, pg_restore) at least as new as the server: HOTLINE_PG_BINDIR,
    else PATH, else /usr/lib/postgresql/*/bin (Debian's packages), newest first."""
    bindir = current_app.config.get(PG_BINDIR_SETTING)
    candidates = [os.path.join(bindir, name)] if bindir else []
    candidates.append(shutil.which(name) or "")
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_in_path, reverse=True)
    found: list[str] = []
    for candidate in filter(None, candidates):
        if not os.access(candidate, os.X_OK):
            continue
        major = _tool_major(candidate)
        if server_major is None or (major is not None and major >= server_major):
            return candidate
        found.append(f"{candidate} ({major})")
    if found:
        raise BackupError(
            f"{name} must be version {server_major} or later (the server's); found only {', '.join(found)}: "
            f"install PostgreSQL {server_major}'s client (apt-get install postgresql-client-{server_major}) "
            f"or set {PG_BINDIR_SETTING}"
        )
    raise BackupError(
        f"{name} not found (PATH, /usr/lib/postgresql/*/bin): install the PostgreSQL client "
        f"(apt-get install postgresql-client) or set {PG_BINDIR_SETTING} to its folder"
    )


def _version_in_path(path: str) -> int:
    found = re.search(r"/postgresql/(\d+)/", path)
    return int(found.group(1)) if found else 0


def _tool_major(path: str) -> int | None:
    try:
        answer = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", answer)  # "pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)"
    return int(found.group(1)) if found else None


def _run(command: list[str], url: URL, what: str, failed: str = "") -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=_libpq_environment(url))
    except OSError as error:
        raise BackupError(f"cannot run {command[0]}: {error.strerror}") from None
    if done.returncode != 0:
        detail = "; ".join(line for line in done.stderr.strip().splitlines()[:4]) or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed{': ' + failed if failed else ''}: {detail}")
    return done.stdout


def _libpq_environment(url: URL) -> dict[str, str]:
    """The child's environment: ours (PGSSLMODE etc. set for the app apply to it too), with the
    URL's host, port, user and password as libpq variables."""
    environment = dict(os.environ)
    for value, variable in (
        (url.host, "PGHOST"),
        (url.port, "PGPORT"),
        (url.username, "PGUSER"),
        (url.password, "PGPASSWORD"),
    ):
        if value:
            environment[variable] = str(value)
    for key, variable in LIBPQ_QUERY_VARIABLES.items():
        value = url.query.get(key)
        if isinstance(value, str) and value:
            environment[variable] = value
    return environment


def _conninfo(url: URL) -> str:
    """`dbname='...'` alone: everything else, the password above all, goes by the environment."""
    name = (url.database or "").replace("\\", "\\\\").replace("'", "\\'")
    return f"dbname='{name}'"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
