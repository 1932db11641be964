"""How an old system's CSV export maps onto tickets: the keys, the presets, `--map` parsing,
and reading one row's values (times, codes) for `services.history_import.importing`.

A mapping names, for each key (created, closed, department, ...), the column that holds it.
Times are read with a strptime format (ISO 8601 when none is given) as local times in the
mapping's zone and stored in UTC. A local time the zone's clocks skipped or repeated (the
hour of a daylight-saving change) is read with fold=0: a repeated time as its first
occurrence, a skipped one with the offset from before the change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.models import Channel
from hotline.services.errors import InvalidInput

# What each key of a mapping means; the first four are required.
KEYS = {
    "id": "the old system's id of the ticket",
    "created": "when the ticket was logged",
    "department": "the department that handled it (its code or name)",
    "category": "its category (the first level when there is a subcategory)",
    "subcategory": "the second level of its category",
    "closed": "when it was closed (a closed ticket is resolved then)",
    "due": "its deadline to resolve",
    "status": "its status in the old system",
    "description": "its text",
    "location": "the kind of place, added to a description made from the category",
    "address": "the address",
    "district": "the district",
    "channel": "how it came in (phone, web, mobile, ...)",
    "type": "consultation, help, complaint, report, suggestion or praise",
    "department_name": "the department's name, when a new department is created",
    "resolution": "the department's answer",
}
REQUIRED_KEYS = ("id", "created", "department", "category")

# A source names the old system: a letter first and no hyphen, so that imported numbers
# (`SOURCE-ID`) never look like Hotline's own `YYYYMMDD-NNNNNN` nor like another source's.
SOURCE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,15}")
# Ids kept as they are in the ticket number; any other id gets a hashed number.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
NUMBER_MAX = 32
EXTERNAL_ID_MAX = 64
CODE_MAX = 64
NAME_MAX = 200


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str]  # key -> column name in the file's header
    date_format: str | None  # strptime format; None reads ISO 8601
    tz: str
    source: str
    # Values of the district column that mean "no district".
    no_district: frozenset[str] = field(default_factory=lambda: frozenset({"", "unspecified"}))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class Preset:
    columns: dict[str, str]
    date_format: str | None
    tz: str
    source: str


PRESETS = {
    # NYC Open Data "311 Service Requests" (erm2-nwe9), as a spreadsheet saves it.
    "nyc311": Preset(
        columns={
            "id": "Unique Key",
            "created": "Created Date",
            "closed": "Closed Date",
            "due": "Due Date",
            "department": "Agency",
            "department_name": "Agency Name",
            "category": "Complaint Type",
            "subcategory": "Descriptor",
            "location": "Location Type",
            "status": "Status",
            "address": "Incident Address",
            "district": "Borough",
            "channel": "Open Data Channel Type",
            "resolution": "Resolution Description",
        },
        date_format="%m/%d/%y %H:%M",
        tz="America/New_York",
        source="nyc311",
    ),
}


class MappingError(InvalidInput):
    """The file or the mapping cannot be used at all: nothing is imported."""


def parse_map(specs: Sequence[str]) -> dict[str, str]:
    """`key=COLUMN,key=COLUMN` (the option may be given several times) -> {key: column}."""
    columns: dict[str, str] = {}
    for spec in specs:
        for part in spec.split(","):
            if not part.strip():
                continue
            key, sep, column = part.partition("=")
            key, column = key.strip(), column.strip()
            if not sep or not column:
                raise MappingError(f"--map: {part.strip()!r} is not KEY=COLUMN")
            if key not in KEYS:
                raise MappingError(f"--map: unknown key {key!r}; the keys are: {', '.join(KEYS)}")
            if key in columns:
                raise MappingError(f"--map: the key {key!r} is given twice")
            columns[key] = column
    return columns


def build_mapping(
    preset: str | None,
    specs: Sequence[str],
    date_format: str | None,
    tz: str | None,
    source: str | None,
    file: Path,
    default_tz: str,
) -> Mapping:
    """A preset (if any) with --map entries over it, and the options over both."""
    if preset is not None and preset not in PRESETS:
        raise MappingError(f"unknown preset {preset!r}; the presets are: {', '.join(PRESETS)}")
    base = PRESETS.get(preset) if preset else None
    columns = {**(base.columns if base else {}), **parse_map(specs)}
    if not columns:
        raise MappingError("say how to read the file: --preset NAME or --map KEY=COLUMN,...")
    missing = [key for key in REQUIRED_KEYS if key not in columns]
    if missing:
        raise MappingError(f"--map must name a column for: {', '.join(missing)}")
    zone_name = tz or (base.tz if base else default_tz)
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"--tz: unknown time zone {zone_name!r} (an IANA name such as Asia/Shanghai)") from None
    name = source or (base.source if base else source_from_file(file))
    if not SOURCE_PATTERN.fullmatch(name):
        raise MappingError(
            f"--source: {name!r} is not a source name: lower-case letters, digits and _, "
            "a letter first, at most 16 characters"
        )
    fmt = date_format or (base.date_format if base else None)
    if fmt is not None and "%" not in fmt:
        raise MappingError(f"--date-format: {fmt!r} has no % directive (e.g. %Y-%m-%d %H:%M)")
    return Mapping(columns=columns, date_format=fmt, tz=zone_name, source=name)


def source_from_file(file: Path) -> str:
    """A source name from the file's name: `Old System 2019.csv` -> `old_system_2019`."""
    slug = re.sub(r"[^a-z0-9]+", "_", file.stem.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"csv_{slug}".rstrip("_")
    return slug[:16].rstrip("_")


def bind_header(header: list[str], mapping: Mapping) -> dict[str, int]:
    """Each mapped key's column index in the header; a missing or repeated column is refused."""
    names = [name.strip() for name in header]
    folded = [name.casefold() for name in names]
    indexes: dict[str, int] = {}
    for key, column in mapping.columns.items():
        wanted = column.strip()
        matches = [i for i, name in enumerate(names) if name == wanted]
        if not matches:  # a differently capitalised header still matches
            matches = [i for i, name in enumerate(folded) if name == wanted.casefold()]
        if not matches:
            shown = ", ".join(names[:60]) + (", ..." if len(names) > 60 else "")
            raise MappingError(f"column {column!r} (for {key}) is not in the file's header; the header has: {shown}")
        if len(matches) > 1:
            raise MappingError(f"column {column!r} (for {key}) appears {len(matches)} times in the header")
        indexes[key] = matches[0]
    return indexes


def read_time(text: str, mapping: Mapping) -> datetime:
    """A local time in the mapping's zone (or with its own offset) -> an aware UTC datetime.
    Raises ValueError when the text is not a time in the format."""
    value = text.strip()
    parsed = datetime.strptime(value, mapping.date_format) if mapping.date_format else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=mapping.zone, fold=0)
    return parsed.astimezone(UTC)


def ticket_number(source: str, external_id: str) -> str:
    """`SOURCE-ID` when the id is plain and short enough, else `SOURCE~HASH` (the `~` cannot
    occur in a plain id, so the two forms never meet)."""
    number = f"{source}-{external_id}"
    if SAFE_ID.fullmatch(external_id) and len(number) <= NUMBER_MAX:
        return number
    digest = hashlib.sha1(external_id.encode(), usedforsecurity=False).hexdigest()
    return f"{source}~{digest[: NUMBER_MAX - len(source) - 1]}"


def derived_code(name: str, *context: str) -> str:
    """A stable code for a name (and what it is under): its slug and a short hash of the whole,
    so that names differing only in punctuation or script still get distinct codes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].rstrip("-") or "x"
    digest = hashlib.sha1("\x1f".join((*context, name)).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{slug}-{digest}"


def plain_code(value: str) -> str | None:
    """The value lower-cased when it already is a usable code (`NYPD` -> `nypd`)."""
    code = value.strip().lower()
    return code if re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", code) and len(code) <= CODE_MAX else None


# How an old system's channel names map onto Hotline's (`models.Channel`; labels in hotline/labels.py).
CHANNEL_SYNONYMS = {
    "phone": Channel.PHONE,
    "telephone": Channel.PHONE,
    "call": Channel.PHONE,
    "电话": Channel.PHONE,
    "online": Channel.WEB,
    "web": Channel.WEB,
    "website": Channel.WEB,
    "网站": Channel.WEB,
    "mobile": Channel.MOBILE,
    "app": Channel.MOBILE,
    "sms": Channel.SMS,
    "text": Channel.SMS,
    "短信": Channel.SMS,
    "voicemail": Channel.VOICEMAIL,
    "open311": Channel.OPEN311,
    "api": Channel.API,
}


def channel_of(value: str) -> str:
    return CHANNEL_SYNONYMS.get(value.strip().lower(), Channel.OTHER).value


# Old statuses: anything closed without a closing time, and work under way. Everything
# else that is not closed (open, assigned, pending, ...) is with the department.
CLOSED_STATUSES = frozenset(
    {"closed", "resolved", "done", "completed", "complete", "finished", "cancelled", "canceled"}
    | {"已办结", "办结", "已关闭", "关闭", "已完成", "已结案"}
)
IN_PROGRESS_STATUSES = frozenset(
    {"started", "in progress", "in_progress", "in-progress", "working", "accepted", "processing"}
    | {"处理中", "办理中", "已签收", "已受理"}
)
