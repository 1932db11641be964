"""The GeoReport v2 resources. Views parse, call the ticket service or a query, and render.

Mapping to the hotline:
- a service is a leaf of the category tree (`service_code` = category code), grouped
  under its first-level category; every service takes two optional attributes, the
  district (a picklist of the city's districts) and the kind of request (ticket type);
- a service request is a ticket (`service_request_id` = ticket number); `open` while the
  ticket is open, `closed` once resolved, closed or merged;
- requests are created at once (`type` realtime), so a "token" is the ticket number itself.

What is public: anyone may read services and requests, as the spec intends; so a request
never shows the caller's name or phone, phone-like numbers in its texts are masked, and
confidential tickets are not published at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import RequestRedirect

from hotline import labels
from hotline.bounds import whole_number
from hotline.extensions import db
from hotline.models import TICKET_TYPES, Attachment, Category, Channel, District, Status, Ticket, TicketEvent, User
from hotline.models.types import utcnow
from hotline.open311.blueprint import bp
from hotline.open311.formats import error, format_of_path, render
from hotline.services.accounts import access
from hotline.services.accounts.users import user_for_token
from hotline.services.citizens import phones
from hotline.services.city import geo
from hotline.services.errors import ServiceError
from hotline.services.platform import listing, ratelimit
from hotline.services.ticketing import attachments, remote_media, tickets

FMT = "<any(json, xml):fmt>"
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-25T00:00:00Z"  # when this endpoint's behaviour last changed
DEFAULT_TYPE = "help"  # a 311 report asks the city to do something: 求助
MAX_SPAN = timedelta(days=90)  # the spec's longest range of requested dates, and its default
# Reads per address and window (HOTLINE_OPEN311_READS, HOTLINE_OPEN311_WINDOW_SECONDS): more than
# the status page's look-ups, which guard four secret digits; enough for an app, not for a scraper.
READS = 300
READS_WINDOW_SECONDS = 600
MAX_PAGE_SIZE = 1000
MAX_IDS = 200
MAX_BODY_BYTES = 256 * 1024
NAME_MAX = 60

# attribute[code] form fields a request may carry (see `attributes`).
ATTRIBUTE_CODES = ("district", "type")
_ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- discovery and services -------------------------------------------------------------


@bp.get("/")
def root() -> Response:
    return discovery("json")


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str) -> Response:
    config = current_app.config
    data = {
        "changeset": CHANGESET,
        "contact": config.get("HOTLINE_OPEN311_CONTACT") or _("The 12345 hotline's administrators."),
        "key_service": config.get("HOTLINE_OPEN311_KEY_SERVICE")
        or _(
            "To file requests, ask the hotline's administrators for a user of the operator role "
            "and an API token for it: the token is the api_key."
        ),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": external_url("open311.root").rstrip("/"),
                "changeset": CHANGESET,
                "type": "test" if current_app.testing or current_app.debug else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, "discovery")


@bp.get(f"/services.{FMT}")
def services(fmt: str) -> Response:
    attributes = service_attributes()
    return render([service_json(category, attributes) for category in leaf_categories()], fmt, "services")


@bp.get(f"/services/<service_code>.{FMT}")
def service_definition(service_code: str, fmt: str) -> Response:
    if service_by_code(service_code) is None:
        raise Open311Error(404, _("No service “%(code)s”.", code=service_code))
    return render({"service_code": service_code, "attributes": service_attributes()}, fmt, "service_definition")


def leaf_categories() -> list[Category]:
    """The categories a request can be filed under: those without sub-categories."""
    categories = db.session.scalars(
        select(Category).options(selectinload(Category.parent)).order_by(Category.code)
    ).all()
    parents = {category.parent_id for category in categories}
    return [category for category in categories if category.id not in parents]


def service_by_code(code: str) -> Category | None:
    category = db.session.scalar(select(Category).where(Category.code == code))
    if category is None:
        return None
    has_children = db.session.scalar(select(Category.id).where(Category.parent_id == category.id).limit(1))
    return None if has_children is not None else category


def service_json(category: Category, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    path = list(reversed(category.lineage()))  # root first
    return {
        "service_code": category.code,
        "service_name": service_name(category),
        "description": category.path_name,
        "metadata": bool(attributes),
        "type": "realtime",
        "keywords": ", ".join(node.name for node in path),
        "group": path[0].name,
    }


def service_name(category: Category) -> str:
    """The category's name below its group: leaf names repeat (其他) across branches."""
    path = list(reversed(category.lineage()))
    return " / ".join(node.name for node in (path[1:] or path))


def service_attributes() -> list[dict[str, Any]]:
    """The extra fields every service takes, as the spec's attribute definitions."""
    attributes: list[dict[str, Any]] = []
    districts = db.session.scalars(select(District).order_by(District.code)).all()
    if districts:
        attributes.append(
            {
                "variable": True,
                "code": "district",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _("Choose one district."),
                "order": 1,
                "description": _("District where the problem is"),
                "values": [{"key": district.code, "name": district.name} for district in districts],
            }
        )
    attributes.append(
        {
            "variable": True,
            "code": "type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Choose one; a request for help when not given."),
            "order": 2,
            "description": _("Kind of request"),
            "values": [{"key": code, "name": str(labels.TYPE_LABELS[code])} for code in TICKET_TYPES],
        }
    )
    return attributes


# --- service requests -------------------------------------------------------------------


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str) -> Response:
    ids = _id_list(request.args.get("service_request_id", ""))
    headers: dict[str, str] = {}
    if ids:
        # The spec: service_request_id overrides every other parameter.
        found = {t.number: t for t in _published(select(Ticket).where(Ticket.number.in_(ids)))}
        rows = [found[number] for number in ids if number in found]
    else:
        query = _filtered(select(Ticket).where(Ticket.confidential.is_(False)))
        page, page_size = _int_arg("page", 1), min(_int_arg("page_size", _default_page_size()), MAX_PAGE_SIZE)
        # Counted as far as the workbench counts (listing.COUNT_CAP), or further for a page past it:
        # a count of the whole 90 days on every request read up to every ticket of a quarter.
        limit = listing.count_limit(page, page_size)
        total = listing.counted_up_to(query, limit)
        rows = _published(
            query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(page_size).offset((page - 1) * page_size)
        )
        headers["X-Total-Count"] = f"{limit}+" if total > limit else str(total)
        if page * page_size < total:
            args = {**request.args.to_dict(), "page": str(page + 1), "page_size": str(page_size)}
            next_page = f"{external_url('open311.list_requests', fmt=fmt)}?{urlencode(args)}"
            headers["Link"] = f'<{next_page}>; rel="next"'
    return render(requests_json(rows), fmt, "service_requests", headers=headers)


@bp.get(f"/requests/<service_request_id>.{FMT}")
def get_request(service_request_id: str, fmt: str) -> Response:
    return render(requests_json([_published_ticket(service_request_id)]), fmt, "service_requests")


@bp.get(f"/tokens/<token>.{FMT}")
def token(token: str, fmt: str) -> Response:
    """We create requests at once and hand out no tokens; a client that asks anyway may use
    the request id as its token, and gets the request id back."""
    ticket = _published_ticket(token)
    return render([{"token": token, "service_request_id": ticket.number}], fmt, "service_requests")


@bp.post(f"/requests.{FMT}")
def create_request(fmt: str) -> Response:
    form = request.form  # at most MAX_BODY_BYTES: see _refuse_unstorable
    user = _intake_user(form.get("api_key") or request.args.get("api_key") or "")
    category = _service(form.get("service_code", "").strip())
    attributes = _attributes(form)
    description = form.get("description", "").strip()
    if not description:
        raise Open311Error(400, _("description is required: the hotline needs to know what should be done."))
    phone = form.get("phone", "").strip()
    if not phone:
        raise Open311Error(
            400,
            _(
                "phone is required: the hotline calls or texts the citizen back about the request, "
                "and the last four digits let them follow it on the status page."
            ),
        )
    address, point = _location(form)
    # issue 18 item 5: a photo uploaded in the field "media" is checked before the ticket opens,
    # so that a bad file refuses the request and opens nothing.
    # Else one named by `media_url` on a host the city lists (remote_media), checked likewise.
    upload = request.files.get("media")
    media: bytes | None = None
    filename = ""
    if upload is not None:
        media, filename = attachments.read_limited(upload.stream), upload.filename or ""
    elif (media_url := form.get("media_url", "").strip()) and remote_media.enabled():
        media, filename = remote_media.fetch(media_url), media_url.split("?")[0].rsplit("/", 1)[-1]
    prepared = attachments.prepare(media, None) if media is not None else None
    intake = tickets.Intake(
        caller_phone=phone,
        caller_name=_caller_name(form.get("first_name", ""), form.get("last_name", "")),
        type=attributes.get("type") or DEFAULT_TYPE,
        category=category.code,
        district=attributes.get("district") or None,
        address=address,
        description=description,
        channel=Channel.OPEN311.value,
        lat=point[0] if point else None,  # geo (issue 18)
        long=point[1] if point else None,
    )
    # The file goes to the store before the ticket opens: a store that is down refuses the request
    # (503) and opens nothing, and a ticket refused leaves no file behind.
    kept = attachments.store_files(prepared, "open311") if prepared is not None else None
    try:
        ticket = tickets.create_ticket(user, intake).ticket
    except BaseException:
        attachments.discard(kept)
        raise
    if prepared is not None and media is not None:
        attachments.add(user, ticket, media, filename=filename, prepared=prepared, kept=kept, source="open311")
    notice = _(
        "Logged as ticket %(number)s and passed on to the department responsible. "
        "Follow it at %(url)s with the last four digits of the phone number.",
        number=ticket.number,
        url=external_url("public.status"),
    )
    data = [{"service_request_id": ticket.number, "service_notice": notice, "account_id": None}]
    return render(data, fmt, "service_requests")


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on the public site: HOTLINE_PUBLIC_URL when set (behind a proxy), else this request's host."""
    public = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    if public:
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def requests_json(rows: Sequence[Ticket]) -> list[dict[str, Any]]:
    updated = _updated_times([t.id for t in rows])
    photos = attachments.public_photos([t.id for t in rows])  # issue 18 item 5: media_url
    return [request_json(t, updated.get(t.id) or t.created_at, photos.get(t.id)) for t in rows]


def request_json(ticket: Ticket, updated_at: datetime, photo: Attachment | None = None) -> dict[str, Any]:
    is_open = ticket.status in Status.OPEN
    return {
        "service_request_id": ticket.number,
        "status": "open" if is_open else "closed",
        "status_notes": None if is_open else _status_notes(ticket),
        "service_name": service_name(ticket.category),
        "service_code": ticket.category.code,
        "description": public_text(ticket.description, ticket),
        "agency_responsible": ticket.department.name if ticket.department else None,
        "service_notice": None,
        "requested_datetime": local_iso(ticket.created_at),
        "updated_datetime": local_iso(updated_at),
        "expected_datetime": local_iso(ticket.resolve_due_at) if ticket.status in Status.WITH_DEPARTMENT else None,
        "address": public_text(ticket.address or (ticket.district.name if ticket.district else ""), ticket) or None,
        "address_id": None,
        "zipcode": None,
        "lat": ticket.lat,  # geo (issue 18)
        "long": ticket.long,
        # Only a photo marked public (re-encoded, without EXIF) is published.
        "media_url": external_url("open311.media", number=ticket.number, attachment_id=photo.id) if photo else None,
    }


@bp.get("/media/<number>/<int:attachment_id>")
def media(number: str, attachment_id: int) -> Response:
    """A public photo of a published request (media_url); 404 for anything else, as if none."""
    ticket = _published_ticket(number)
    photo = attachments.public_photo(ticket, attachment_id)
    if photo is None:
        raise Open311Error(404, _("No such media."))
    return attachments.file_response(photo)


def _status_notes(ticket: Ticket) -> str | None:
    if ticket.status == Status.MERGED:
        parent = ticket.parent
        if parent is not None and not parent.confidential:
            return _("Duplicate of request %(number)s, which answers for both.", number=parent.number)
        return _("Duplicate of another request, which answers for both.")
    return public_text(ticket.resolution, ticket) or None


def public_text(text: str | None, ticket: Ticket) -> str:
    """Free text as the public may read it: the caller's name and phone-like numbers masked."""
    if not text:
        return ""
    name = (ticket.caller_name or "").strip()
    if len(name) >= 2:
        text = text.replace(name, phones.MASK)
    return phones.mask_phones_in_text(text)


def local_iso(value: datetime | None) -> str | None:
    """ISO 8601 in the hotline's time zone, with its offset: 2026-11-25T14:00:00+08:00."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).isoformat(timespec="seconds")


def _published(query) -> list[Ticket]:
    query = query.where(Ticket.confidential.is_(False)).options(
        selectinload(Ticket.category).selectinload(Category.parent),
        selectinload(Ticket.district),
        selectinload(Ticket.department),
    )
    return list(db.session.scalars(query))


def _published_ticket(number: str) -> Ticket:
    rows = _published(select(Ticket).where(Ticket.number == number)) if len(number) <= 32 else []
    if not rows:
        raise Open311Error(404, _("No service request %(id)s.", id=number))
    return rows[0]


def _updated_times(ids: list[int]) -> dict[int, datetime]:
    """When each ticket last changed in a way the public sees: its last event, internal notes aside."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(TicketEvent.ticket_id, func.max(TicketEvent.at))
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind != "note")
        .group_by(TicketEvent.ticket_id)
    )
    # func.max bypasses the column type: SQLite hands back a naive UTC value (or a string).
    result: dict[int, datetime] = {}
    for ticket_id, at in rows:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if isinstance(at, datetime):
            result[ticket_id] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return result


def _filtered(query):
    codes = [code for code in (c.strip() for c in request.args.get("service_code", "").split(",")) if code]
    if codes:
        query = query.join(Ticket.category).where(Category.code.in_(codes))
    statuses = _statuses(request.args.get("status", ""))
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    start, end = _date_range(_when("start_date"), _when("end_date"))
    return query.where(Ticket.created_at >= start, Ticket.created_at <= end)


def _date_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The spec's range: end_date defaults to now, start_date to 90 days before the end, and
    no range spans more than 90 days, so that no query reads further than that."""
    if end is None:
        end = utcnow() if start is None else max(utcnow(), start)
    if start is None:
        start = end - MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(
            400,
            _(
                "start_date and end_date may span at most %(days)d days (without end_date, up to now): "
                "ask for a longer period in parts.",
                days=MAX_SPAN.days,
            ),
        )
    return start, end


def _statuses(raw: str) -> list[str]:
    chosen: list[str] = []
    for value in (v.strip().lower() for v in raw.split(",")):
        if not value:
            continue
        if value == "open":
            chosen.extend(Status.OPEN)
        elif value == "closed":
            chosen.extend((Status.RESOLVED, Status.CLOSED, Status.MERGED))
        else:
            raise Open311Error(400, _("status must be open or closed (or both, comma separated)."))
    return chosen


_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def _when(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00": read it as meant.
    raw = _SPACED_OFFSET.sub(r"+\1", raw)
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:  # no offset: the hotline's own time
            value = value.replace(tzinfo=ZoneInfo(current_app.config["HOTLINE_TIMEZONE"]))
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Open311Error(
            400,
            _("%(field)s must be a W3C date and time, e.g. 2026-11-25T00:00:00+08:00.", field=name),
        ) from None


def _id_list(raw: str) -> list[str]:
    ids = list(dict.fromkeys(value for value in (v.strip() for v in raw.split(",")) if value))
    if len(ids) > MAX_IDS:
        raise Open311Error(400, _("Ask for at most %(n)d service_request_id values at once.", n=MAX_IDS))
    return ids


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    value = whole_number(raw)
    if value is None or value < 1:
        raise Open311Error(400, _("%(field)s must be a whole number of at least 1.", field=name))
    return value


def _default_page_size() -> int:
    return int(current_app.config.get("HOTLINE_API_PAGE_SIZE", 50))


def _intake_user(api_key: str) -> User:
    if not api_key.strip():
        raise Open311Error(403, _("api_key is required to file a request: it is a hotline user's API token."))
    user = user_for_token(api_key.strip())
    if user is None:
        raise Open311Error(403, _("The api_key is not valid."))
    if not user.has_role(*access.INTAKE_ROLES):
        raise Open311Error(403, _("The user of this api_key may not file requests."))
    return user


def _service(code: str) -> Category:
    if not code:
        raise Open311Error(400, _("service_code is required: see services.json."))
    category = service_by_code(code)
    if category is None:
        raise Open311Error(400, _("No service “%(code)s”: see services.json.", code=code))
    return category


def _attributes(form) -> dict[str, str]:
    values: dict[str, str] = {}
    for key in form:
        match = _ATTRIBUTE_FIELD.match(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in ATTRIBUTE_CODES:
            raise Open311Error(
                400,
                _(
                    "Unknown attribute “%(code)s”; the services take: %(codes)s.",
                    code=code,
                    codes=", ".join(ATTRIBUTE_CODES),
                ),
            )
        given = [v.strip() for v in form.getlist(key) if v.strip()]
        if len(given) > 1 or code in values:
            raise Open311Error(400, _("attribute[%(code)s] takes one value.", code=code))
        if given:
            values[code] = given[0]
    return values


def _location(form) -> tuple[str, tuple[float, float] | None]:
    """The address text (address_string, else address_id, else the coordinates) and the point.

    geo (issue 18): lat/long are stored (and answered back); an address_string alone is
    matched against the city's gazetteer, whose place gives the point (and so the district)."""
    address = form.get("address_string", "").strip() or form.get("address_id", "").strip()
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat and not long:
        if not address:
            raise Open311Error(400, _("A location is required: address_string, or lat and long."))
        place = geo.match_address(form.get("address_string", ""))
        return address, (place.lat, place.long) if place is not None else None
    if not lat or not long:
        raise Open311Error(400, _("lat and long go together."))
    try:
        latitude, longitude = float(lat), float(long)
    except ValueError:
        latitude = longitude = float("nan")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Open311Error(400, _("lat must be a number from -90 to 90 and long from -180 to 180."))
    return address or f"{latitude:.6f}, {longitude:.6f}", (latitude, longitude)


def _caller_name(first: str, last: str) -> str:
    """The name as people write it: 张三 (family name first, no space) for Chinese, else "First Last"."""
    first, last = first.strip()[:NAME_MAX], last.strip()[:NAME_MAX]
    if _CJK.search(first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


# --- errors -------------------------------------------------------------------------------


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in ("json", "xml") else format_of_path(request.path)


@bp.errorhandler(Open311Error)
def _open311_error(e: Open311Error) -> Response:
    db.session.rollback()
    return error(_fmt(), e.status, e.description)


@bp.errorhandler(ServiceError)
def _service_error(e: ServiceError) -> Response:
    db.session.rollback()  # bad input changes nothing
    return error(_fmt(), e.status_code, e.message)


def _http_error(e: HTTPException) -> Response:
    db.session.rollback()
    code = e.code or 500
    messages = {
        400: _("The request could not be understood."),
        404: _("No such resource; the endpoints are listed in discovery.json."),
        405: _("This method is not allowed here."),
        413: _("The request body is too large."),
        500: _("The server failed to handle the request; it has been logged."),
    }
    headers = {}
    if code == 405 and getattr(e, "valid_methods", None):
        headers["Allow"] = ", ".join(e.valid_methods)
    return error(_fmt(), code, messages.get(code, e.description or e.name), headers)


# Handlers per code: Flask prefers an app-wide handler for a code (the web's 404 page)
# over a blueprint's handler for a class.
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.before_request
def _limit_public_reads() -> Response | None:
    """Reads need no key, so each address may make only so many, counted as the status page's
    look-ups are (services/platform/ratelimit.py: in Redis, shared by every process)."""
    if request.method not in ("GET", "HEAD"):
        return None
    limit = ratelimit.configured(
        "open311-ip", "HOTLINE_OPEN311_READS", READS, "HOTLINE_OPEN311_WINDOW_SECONDS", READS_WINDOW_SECONDS
    )
    verdict = ratelimit.hit(limit, request.remote_addr or "unknown")
    if verdict.allowed:
        return None
    minutes = max(1, -(-verdict.retry_after // 60))
    message = ngettext(
        "Too many requests from this address. Please wait %(num)d minute and try again.",
        "Too many requests from this address. Please wait %(num)d minutes and try again.",
        minutes,
    )
    return error(_fmt(), 429, message, {"Retry-After": str(verdict.retry_after)})


@bp.before_request
def _refuse_unstorable() -> Response | None:
    """A NUL (which PostgreSQL cannot hold) anywhere in the input is bad input, not a 500."""
    values = [request.path, *(key + value for key, value in request.args.items(multi=True))]
    if request.method == "POST":
        # A photo in the field "media" (multipart): the attachments' limit (issue 18 item 5).
        multipart = request.mimetype == "multipart/form-data"
        request.max_content_length = attachments.request_limit() if multipart else MAX_BODY_BYTES
        values.extend(key + value for key, value in request.form.items(multi=True))
    if any("\x00" in value for value in values):
        return error(_fmt(), 400, _("The request contains a NUL character."))
    return None


@bp.before_app_request
def _unknown_open311_paths() -> Response | None:
    """The spec's error format for paths under /open311/ that no route matched."""
    current = request._get_current_object()  # every request runs this: the proxy once
    failure = current.routing_exception
    if failure is None or isinstance(failure, RequestRedirect) or not current.path.startswith("/open311/"):
        return None
    if isinstance(failure, HTTPException):
        return _http_error(failure)
    return None
