"""The citizen's own web reports (网上留言, issue 18 item 6): a phone proved by a code, a topic in
plain words, a place, and the ticket opened on the `web` channel through the one way in
(`intake.open_ticket`); where the citizen agreed, the request and the unit's answer on the
public board (公开留言).

Codes: six digits sent by text through the outbox, stored as an HMAC with the app's secret (a
leaked table gives no code), valid CODE_MINUTES, CODE_TRIES tries; a new code replaces the
ones before. Floods are held by the rate limiter (services/platform/ratelimit.py): codes per
phone and per IP address, reports per phone, per address (the place named, or the point's
grid cell) and per IP address. Every refusal is a `Refused` with a message for the citizen.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import or_, select, update

from hotline.extensions import db
from hotline.models import Attachment, Category, Channel, PhoneCode, Status, Ticket, WebReport
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_sms, outbox, phones, web_report_photos
from hotline.services.city import geo
from hotline.services.errors import InvalidInput, InvalidInputs
from hotline.services.platform import ratelimit, write_turns
from hotline.services.ticketing import attachment_uploads, intake

CODE_MINUTES = 10
CODE_TRIES = 5
VERIFIED_MINUTES = 30  # how long a proved phone may report before proving it again
DESCRIPTION_MIN = 5
BOARD_PAGE = 20


@dataclass(frozen=True)
class Topic:
    """What a citizen picks, in plain words, and the categories it means: the first that exists
    (by code, else by name) takes the ticket, so that one table serves any city's tree."""

    key: str
    label: object  # a lazy string: Chinese-first through the catalogue
    categories: tuple[str, ...]
    type: str = "report"


TOPICS: tuple[Topic, ...] = (
    Topic("streetlight", _l("A streetlight is out or broken"), ("streetlights", "路灯", "城市公共设施", "基础设施")),
    Topic("road", _l("A pothole or a broken road or pavement"), ("potholes", "道路坑洼", "基础设施")),
    Topic("rubbish", _l("Rubbish, litter or a dirty street"), ("sanitation", "环境卫生", "园林绿化环卫")),
    Topic("noise", _l("Noise at night or from building work"), ("noise", "噪音污染", "噪声污染")),
    Topic("water", _l("No water, a leak or a burst pipe"), ("water-supply", "供水", "自来水供应")),
    Topic("other", _l("Something else"), ("other", "其他"), type="help"),
)
TOPIC_BY_KEY = {topic.key: topic for topic in TOPICS}


class Refused(InvalidInput):
    """A refusal the citizen reads: a limit met, a code wrong or expired, a phone not proved."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int = 400, retry_after: int = 0):
        super().__init__(message, field=field)
        self.status_code = status_code
        self.retry_after = retry_after


# -- limits ----------------------------------------------------------------------------------

# (name, hits setting, default hits, window setting, default window in seconds)
_LIMITS = {
    "code-phone": ("HOTLINE_REPORT_CODES_PER_PHONE", 3, "HOTLINE_REPORT_CODE_WINDOW_SECONDS", 3600),
    "code-ip": ("HOTLINE_REPORT_CODES_PER_IP", 10, "HOTLINE_REPORT_CODE_WINDOW_SECONDS", 3600),
    "report-phone": ("HOTLINE_REPORTS_PER_PHONE", 5, "HOTLINE_REPORT_WINDOW_SECONDS", 86400),
    "report-address": ("HOTLINE_REPORTS_PER_ADDRESS", 5, "HOTLINE_REPORT_WINDOW_SECONDS", 86400),
    "report-ip": ("HOTLINE_REPORTS_PER_IP", 20, "HOTLINE_REPORT_WINDOW_SECONDS", 86400),
}
_LIMIT_MESSAGES = {
    "code-phone": _l("Too many codes were sent to this phone."),
    "code-ip": _l("Too many codes were asked for from this connection."),
    "report-phone": _l("This phone has sent the most reports allowed for now."),
    "report-address": _l("This place has had the most reports allowed for now: the hotline already has it."),
    "report-ip": _l("Too many reports were sent from this connection."),
}


def _check_limit(name: str, key: str) -> None:
    hits_setting, hits, window_setting, window = _LIMITS[name]
    verdict = ratelimit.hit(ratelimit.configured(f"web-{name}", hits_setting, hits, window_setting, window), key)
    if verdict.allowed:
        return
    minutes = max(1, -(-verdict.retry_after // 60))
    wait = ngettext(
        "Please try again in %(num)d minute, or call 12345.",
        "Please try again in %(num)d minutes, or call 12345.",
        minutes,
    )
    raise Refused(f"{_LIMIT_MESSAGES[name]} {wait}", status_code=429, retry_after=verdict.retry_after)


# -- proving a phone ---------------------------------------------------------------------------


def _hash(phone: str, browser: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"phone-code:{phone}:{browser}:{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(raw: str | None) -> str:
    """Full-width digits (a Chinese keyboard's) become ASCII; spaces go."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split())


def send_code(raw_phone: str, ip: str, now: datetime | None = None) -> tuple[str, str]:
    """Text a new six-digit code to the phone (through the outbox); returns the phone in E.164
    and a secret for the browser that asked (kept in its session): the code proves the phone in
    that browser only, so that whoever reads the outbox cannot use it elsewhere. Earlier codes
    for the phone stop working. Raises InvalidInput for a number that is no phone, Refused when
    a limit is met."""
    if not (raw_phone or "").strip():
        raise InvalidInput(_("Enter your mobile number."), field="phone")
    try:
        phone = phones.normalise_phone(raw_phone)
    except InvalidInput:
        raise InvalidInput(
            _("This is not a phone number we can text. Check it and try again."), field="phone"
        ) from None
    caller = outbox.caller_for(phone)
    if caller is not None and caller.opted_out:  # the outbox would never send the code
        raise Refused(
            _("This number has stopped our texts. Text START (订阅) to the hotline first, then ask for a code."),
            field="phone",
        )
    _check_limit("code-ip", ip)
    _check_limit("code-phone", phone)
    now = now or utcnow()
    code = f"{secrets.randbelow(1_000_000):06d}"
    browser = secrets.token_urlsafe(16)
    db.session.execute(
        update(PhoneCode).where(PhoneCode.phone == phone, PhoneCode.used_at.is_(None)).values(used_at=now)
    )
    db.session.add(
        PhoneCode(
            phone=phone,
            code_hash=_hash(phone, browser, code),
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
            tries=0,
        )
    )
    body = citizen_sms.render("phone_code", citizen_sms.locale_for(phone), code=code, minutes=CODE_MINUTES)
    # queue_message commits the code with its text, then enqueues the sending.
    outbox.queue_message("phone_code", phone, body)
    return phone, browser


def check_code(phone: str, browser: str, raw_code: str, now: datetime | None = None) -> None:
    """Prove `phone` with the code texted to it, in the browser that asked (`browser`, from
    `send_code`); the code is then used up. Raises Refused for a wrong, expired or used-up code
    (each wrong try counts)."""
    now = now or utcnow()
    code = normalise_code(raw_code)
    if not (len(code) == 6 and code.isdigit()):
        raise Refused(_("Enter the six digits of the code we texted you."), field="code")
    row = db.session.scalar(
        select(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.used_at.is_(None))
        .order_by(PhoneCode.id.desc())
        .limit(1)
    )
    if row is None or row.expires_at <= now:
        raise Refused(_("This code has expired. Ask for a new one."), field="code")
    if row.tries >= CODE_TRIES:
        raise Refused(_("Too many wrong tries for this code. Ask for a new one."), field="code")
    # Counted before comparing, with one conditional UPDATE, so that parallel guesses share the tries.
    counted = db.session.execute(
        update(PhoneCode).where(PhoneCode.id == row.id, PhoneCode.tries < CODE_TRIES).values(tries=PhoneCode.tries + 1)
    )
    if counted.rowcount != 1:
        db.session.commit()
        raise Refused(_("Too many wrong tries for this code. Ask for a new one."), field="code")
    if not hmac.compare_digest(row.code_hash, _hash(phone, browser, code)):
        db.session.commit()
        db.session.refresh(row)
        left = max(0, CODE_TRIES - row.tries)
        raise Refused(
            ngettext("This code is not right. %(num)d try left.", "This code is not right. %(num)d tries left.", left)
            if left
            else _("Too many wrong tries for this code. Ask for a new one."),
            field="code",
        )
    row.used_at = now
    db.session.commit()


# -- reporting ---------------------------------------------------------------------------------


@dataclass
class Report:
    phone: str  # proved, E.164
    topic: str
    description: str
    address: str = ""
    lat: float | None = None
    long: float | None = None
    public: bool = False
    # issue 18: photos sent with the report (file name, stream), and whether they may be shown
    # publicly (the board, Open311's media_url): the citizen's choice, no by default
    photos: Sequence[tuple[str, IO[bytes]]] = ()
    photos_public: bool = False


def topic_category(topic: Topic) -> Category | None:
    """The category the topic means in this city: the first of its list found by code, else by name."""
    found = db.session.scalars(
        select(Category).where(or_(Category.code.in_(topic.categories), Category.name.in_(topic.categories)))
    ).all()
    for wanted in topic.categories:
        for category in sorted(found, key=lambda c: c.id):
            if wanted in (category.code, category.name):
                return category
    return None


def available_topics() -> list[Topic]:
    """The topics this city's categories can take (the rest are not offered)."""
    return [topic for topic in TOPICS if topic_category(topic) is not None]


def submit(report: Report, ip: str) -> Ticket:
    """Open the ticket on the `web` channel (its number is texted by intake, as for a call) and
    record the topic and consent. Raises InvalidInputs with every field wrong, Refused at a limit."""
    errors: list[InvalidInput] = []
    topic = TOPIC_BY_KEY.get(report.topic)
    category = topic_category(topic) if topic else None
    if category is None:
        errors.append(InvalidInput(_("Choose what your report is about."), field="topic"))
    description = " ".join((report.description or "").split())
    if len(description) < DESCRIPTION_MIN:
        errors.append(
            InvalidInput(
                _("Describe the problem in a few words (at least %(n)d characters).", n=DESCRIPTION_MIN),
                field="description",
            )
        )
    elif len(description) > intake.DESCRIPTION_MAX:
        errors.append(
            InvalidInput(
                _("The description is longer than %(n)d characters.", n=intake.DESCRIPTION_MAX), field="description"
            )
        )
    address = " ".join((report.address or "").split())[:300]
    point = None
    try:
        point = geo.checked_point(report.lat, report.long)
        if point is None and address:  # typed, not picked: the gazetteer's place, if it names one
            place = geo.match_address(address)
            point = (place.lat, place.long) if place is not None else None
        district_id = geo.locate(*point) if point is not None else None
    except InvalidInput as error:
        errors.append(InvalidInput(error.message, field="place"))
        district_id = None
    if point is None and not address and not any(e.field == "place" for e in errors):
        errors.append(InvalidInput(_("Drop a pin on the map or type an address."), field="place"))
    if errors:
        raise InvalidInputs.of(errors)
    assert topic is not None and category is not None
    _check_limit("report-ip", ip)
    _check_limit("report-phone", report.phone)
    _check_limit("report-address", _place_key(address, point))
    # The photos are checked (decoded, re-encoded) after the limits, which hold floods first;
    # as on the ticket page, with its limits and messages. A bad one refuses the report.
    photos = attachment_uploads.check_all(
        report.photos, most=web_report_photos.max_photos(), field="photos", photos_only=True
    )
    fields = {
        "type": topic.type,
        "category_id": category.id,
        "district_id": district_id,
        "address": address,
        "description": description,
        "caller_phone": report.phone,
    }
    if point is not None:
        fields["lat"], fields["long"] = point
    # The photos go to the store first: a store that is down refuses the report and opens nothing;
    # a report that does not open keeps no photo. The ticket and its web report in one
    # transaction, in the database's write turn (SQLite).
    with attachment_uploads.stored(photos, "web") as photos, write_turns.write_turn():
        try:
            result = intake.open_ticket(None, Channel.WEB, fields, commit=False, event_data={"topic": topic.key})
            db.session.add(WebReport(ticket_id=result.written.id, topic=topic.key, public=bool(report.public)))
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    intake.hand_over(result)
    ticket = result.ticket
    # After the one way in, as Open311's upload: the files were checked before it opened.
    attachment_uploads.attach_all(None, ticket, photos, public=report.photos_public, source=web_report_photos.SOURCE)
    return ticket


def _place_key(address: str, point: tuple[float, float] | None) -> str:
    """One key per place: the point's grid cell (about 100 m), else the address's words."""
    if point is not None:
        return f"cell:{geo.cell_of(*point)}"
    return "address:" + unicodedata.normalize("NFKC", address).casefold().replace(" ", "")


# -- the public board --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardEntry:
    """What the board shows of a report: nothing that names or reaches the citizen."""

    topic: str
    category: str
    district: str | None
    description: str
    created_at: datetime
    answered: bool
    department: str | None
    answer: str | None
    answered_at: datetime | None
    photos: tuple[int, ...] = ()  # issue 18: the ids of its photos marked public (web_report_photos)


def board(page: int = 1, per_page: int = BOARD_PAGE) -> tuple[list[BoardEntry], bool]:
    """The reports whose citizens agreed, newest first: one page, and whether there is another."""
    page = max(1, page)
    rows: Sequence[WebReport] = db.session.scalars(
        select(WebReport)
        .join(Ticket, Ticket.id == WebReport.ticket_id)
        .where(WebReport.public.is_(True), Ticket.confidential.is_(False))
        .order_by(WebReport.created_at.desc(), WebReport.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    shown = rows[:per_page]
    photos = web_report_photos.on_board([row.ticket_id for row in shown])
    return [_entry(row, photos.get(row.ticket_id, [])) for row in shown], len(rows) > per_page


def _entry(report: WebReport, photos: Sequence[Attachment] = ()) -> BoardEntry:
    ticket = report.ticket
    topic = TOPIC_BY_KEY.get(report.topic)
    # The answer of the ticket that answers for this one (a merged ticket's parent, if the
    # citizen may follow it), as the status page gives it; phone numbers masked.
    source = access.answering_for_citizen(ticket)
    answered = source is not None and source.status in (Status.RESOLVED, Status.CLOSED) and bool(source.resolution)
    return BoardEntry(
        topic=str(topic.label) if topic else report.topic,
        category=ticket.category.name,
        district=ticket.district.name if ticket.district else None,
        description=phones.mask_phones_in_text(ticket.description),
        created_at=ticket.created_at,
        answered=answered,
        department=source.department.name if answered and source and source.department else None,
        answer=phones.mask_phones_in_text(source.resolution or "") if answered and source else None,
        answered_at=source.resolved_at if answered and source else None,
        photos=tuple(photo.id for photo in photos),
    )
