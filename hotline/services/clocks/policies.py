"""SLA policies as administrators manage them: list, create, change, delete, with validation.

A policy sets the accept and resolve limits for a category (and every category
below it that has none of its own) and an urgency; one with no category is the
hotline-wide policy for that urgency (`sla.terms_for` picks the nearest).
Tickets copy their terms when they are dispatched (`Ticket.sla_terms`), so a
change applies to tickets dispatched afterwards, never to running clocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import URGENCIES, Category, Role, SlaPolicy, User
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import Conflict, InvalidInput, NotFound

FIELDS = (
    "category",
    "urgency",
    "accept_amount",
    "accept_unit",
    "resolve_amount",
    "resolve_unit",
    "return_window_days",
    "max_extension_days",
    # First contact with the citizen (issue 17): optional; none set, the urgency's default.
    "contact_amount",
    "contact_unit",
)
NULLABLE = ("category", "contact_amount", "contact_unit")
REQUIRED = ("urgency", "accept_amount", "accept_unit", "resolve_amount", "resolve_unit")
DEFAULTS: dict[str, Any] = {"category": None, "return_window_days": 2, "max_extension_days": 10}

# Upper bounds keep the working-time arithmetic within the calendar it can search
# (three years) and catch a typo such as 5000 working days; the real rules are far below.
ACCEPT_LIMITS = {"working_hours": 200, "calendar_minutes": 7 * 24 * 60}
RESOLVE_LIMITS = {"working_days": 250, "calendar_hours": 366 * 24}
RETURN_WINDOW_LIMIT = 30
EXTENSION_LIMIT = 250


def list_policies() -> list[SlaPolicy]:
    """Hotline-wide policies first, then by category code; within each, normal before urgent."""
    policies = db.session.scalars(select(SlaPolicy)).all()
    return sorted(
        policies,
        key=lambda p: (p.category is not None, p.category.code if p.category else "", _urgency_rank(p.urgency)),
    )


def get_policy(policy_id: int) -> SlaPolicy:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(_("No SLA policy %(id)s.", id=policy_id))
    return policy


def create_policy(actor: User, values: Mapping[str, Any]) -> SlaPolicy:
    """A new policy from `values` (the keys of FIELDS; `category` a code or None)."""
    access.require_role(actor, Role.ADMIN)
    for name in REQUIRED:
        if values.get(name) is None:
            raise InvalidInput(_("“%(field)s” is required.", field=name), field=name)
    merged = {**DEFAULTS, **{k: v for k, v in values.items() if v is not None or k == "category"}}
    policy = SlaPolicy()
    _apply(policy, merged)
    db.session.add(policy)
    return _commit(policy)


def update_policy(actor: User, policy: SlaPolicy, values: Mapping[str, Any]) -> SlaPolicy:
    """Change the fields given in `values`; the others keep their values."""
    access.require_role(actor, Role.ADMIN)
    for name in values:
        # `category: null` is meaningful (hotline-wide), and so is no first-contact limit (the
        # urgency's default, issue 17); any other null would blank a required field.
        if values[name] is None and name not in NULLABLE:
            raise InvalidInput(_("“%(field)s” cannot be null.", field=name), field=name)
    merged = {**_current(policy), **values}
    _apply(policy, merged)
    return _commit(policy)


def delete_policy(actor: User, policy: SlaPolicy) -> None:
    """Tickets already dispatched keep the terms they copied; later ones fall back up the tree."""
    access.require_role(actor, Role.ADMIN)
    db.session.delete(policy)
    db.session.commit()


def _current(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "category": policy.category.code if policy.category else None,
        "urgency": policy.urgency,
        "accept_amount": policy.accept_amount,
        "accept_unit": policy.accept_unit,
        "resolve_amount": policy.resolve_amount,
        "resolve_unit": policy.resolve_unit,
        "return_window_days": policy.return_window_days,
        "max_extension_days": policy.max_extension_days,
        "contact_amount": policy.contact_amount,
        "contact_unit": policy.contact_unit,
    }


def _apply(policy: SlaPolicy, values: Mapping[str, Any]) -> None:
    """Validate every field, then set them all: nothing is staged when one is wrong."""
    unknown = [name for name in values if name not in FIELDS]
    if unknown:
        raise InvalidInput(_("Unknown field “%(field)s”.", field=unknown[0]), field=unknown[0])
    category = _category(values.get("category"))
    urgency = values.get("urgency")
    if urgency not in URGENCIES:
        raise InvalidInput(_("Urgency must be one of: %(all)s.", all=", ".join(URGENCIES)), field="urgency")
    accept_unit = _choice(values.get("accept_unit"), ACCEPT_UNITS, "accept_unit")
    resolve_unit = _choice(values.get("resolve_unit"), RESOLVE_UNITS, "resolve_unit")
    accept_amount = _whole(values.get("accept_amount"), "accept_amount", 1, ACCEPT_LIMITS[accept_unit])
    resolve_amount = _whole(values.get("resolve_amount"), "resolve_amount", 1, RESOLVE_LIMITS[resolve_unit])
    return_window = _whole(values.get("return_window_days"), "return_window_days", 1, RETURN_WINDOW_LIMIT)
    # 0 is a policy too: no extension for this category.
    max_extension = _whole(values.get("max_extension_days"), "max_extension_days", 0, EXTENSION_LIMIT)
    _check_clocks(
        {
            "accept_amount": accept_amount,
            "accept_unit": accept_unit,
            "resolve_amount": resolve_amount,
            "resolve_unit": resolve_unit,
        }
    )
    contact_amount, contact_unit = _contact_limit(values, accept_unit, resolve_amount, resolve_unit)
    _check_unique(policy, category, urgency)
    policy.contact_amount, policy.contact_unit = contact_amount, contact_unit
    policy.category = category
    policy.urgency = urgency
    policy.accept_amount, policy.accept_unit = accept_amount, accept_unit
    policy.resolve_amount, policy.resolve_unit = resolve_amount, resolve_unit
    policy.return_window_days = return_window
    policy.max_extension_days = max_extension


def _check_clocks(terms: dict[str, Any]) -> None:
    """Refuse limits under which a ticket would have to be resolved before it must be accepted."""
    found = sla.overtaking(terms, work_calendar(), utcnow())
    if found is None:
        return
    raise InvalidInput(
        _(
            "The time to resolve must not end before the time to accept: a ticket logged %(start)s "
            "would have to be resolved by %(resolve)s but accepted only by %(accept)s. "
            "Give more time to resolve, or count both in the same kind of time.",
            start=moment_text(found.start),
            resolve=moment_text(found.resolve_due_at),
            accept=moment_text(found.accept_due_at),
        ),
        field="resolve_amount",
    )


def _contact_limit(
    values: Mapping[str, Any], accept_unit: str, resolve_amount: int, resolve_unit: str
) -> tuple[int | None, str | None]:
    """The first-contact limit (none given: the urgency's default), refused when the resolve
    deadline could fall before it: contact comes first (先联系后办理)."""
    raw = values.get("contact_amount")
    if raw in (None, ""):
        return None, None
    unit = _choice(values.get("contact_unit") or accept_unit, ACCEPT_UNITS, "contact_unit")
    amount = _whole(raw, "contact_amount", 1, ACCEPT_LIMITS[unit])
    terms = {"contact_amount": amount, "contact_unit": unit, "resolve_amount": resolve_amount}
    found = sla.overtaking(sla.contact_terms(terms | {"resolve_unit": resolve_unit}), work_calendar(), utcnow())
    if found is not None:
        raise InvalidInput(
            _(
                "The first contact must not be due after the time to resolve: a ticket logged %(start)s "
                "would have to be resolved by %(resolve)s but the citizen contacted only by %(contact)s. "
                "Give less time to contact the citizen.",
                start=moment_text(found.start),
                resolve=moment_text(found.resolve_due_at),
                contact=moment_text(found.accept_due_at),
            ),
            field="contact_amount",
        )
    return amount, unit


@dataclass(frozen=True)
class Preview:
    """When each clock would fall for a ticket dispatched at `start` under a policy's limits."""

    start: datetime
    accept_due_at: datetime
    resolve_due_at: datetime


def preview(terms: Mapping[str, Any], now: datetime | None = None) -> Preview | None:
    """The deadlines a ticket dispatched `now` would get under `terms` (the amounts and units), by
    the same computation as the tickets' clocks (`sla.due_times`); None when the limits are not
    valid ones (a form being filled)."""
    try:
        accept_unit = _choice(terms.get("accept_unit"), ACCEPT_UNITS, "accept_unit")
        resolve_unit = _choice(terms.get("resolve_unit"), RESOLVE_UNITS, "resolve_unit")
        limits = {
            "accept_amount": _whole(terms.get("accept_amount"), "accept_amount", 1, ACCEPT_LIMITS[accept_unit]),
            "accept_unit": accept_unit,
            "resolve_amount": _whole(terms.get("resolve_amount"), "resolve_amount", 1, RESOLVE_LIMITS[resolve_unit]),
            "resolve_unit": resolve_unit,
        }
    except InvalidInput:
        return None
    now = now or utcnow()
    return Preview(now, *sla.due_times(limits, now, work_calendar()))


def policy_terms(policy: SlaPolicy) -> dict[str, Any]:
    """A saved policy's values, as `create_policy` takes them."""
    return _current(policy)


def moment_text(moment: datetime) -> str:
    """A moment in the hotline's time zone with its weekday, in the reader's language
    (星期六 2026-12-05 15:03 / Saturday 2026-12-05 15:03): a deadline's weekday is what matters."""
    calendar = work_calendar()
    return format_datetime(moment, "EEEE yyyy-MM-dd HH:mm", tzinfo=calendar.tz, locale=get_locale() or "en")


def _category(code: Any) -> Category | None:
    if code is None:
        return None
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput(_("“category” must be a category code, or null for the whole hotline."), field="category")
    category = db.session.scalar(select(Category).where(Category.code == code.strip()))
    if category is None:
        raise InvalidInput(_("Unknown category “%(code)s”.", code=code), field="category")
    return category


def _choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InvalidInput(_("“%(field)s” must be one of: %(all)s.", field=field, all=", ".join(allowed)), field=field)
    return value


def _whole(value: Any, field: str, low: int, high: int) -> int:
    # bool is an int in Python; true is not 1 day.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            _("“%(field)s” must be a whole number from %(low)d to %(high)d.", field=field, low=low, high=high),
            field=field,
        )
    return value


def _check_unique(policy: SlaPolicy, category: Category | None, urgency: str) -> None:
    """One policy per category and urgency. Checked here because the database's unique
    constraint treats NULLs as distinct, so it cannot catch two hotline-wide policies."""
    query = select(SlaPolicy).where(SlaPolicy.urgency == urgency)
    query = query.where(SlaPolicy.category_id.is_(None) if category is None else SlaPolicy.category_id == category.id)
    with db.session.no_autoflush:
        other = db.session.scalar(query)
    if other is not None and other is not policy:
        raise Conflict(_duplicate_message(category, urgency, other.id), field="category")


def _duplicate_message(category: Category | None, urgency: str, policy_id: int) -> str:
    if category is None:
        return _(
            "There is already a hotline-wide policy for %(urgency)s tickets (policy %(id)d); change that one.",
            urgency=urgency,
            id=policy_id,
        )
    return _(
        "Category “%(code)s” already has a policy for %(urgency)s tickets (policy %(id)d); change that one.",
        code=category.code,
        urgency=urgency,
        id=policy_id,
    )


def _commit(policy: SlaPolicy) -> SlaPolicy:
    try:
        db.session.commit()
    except IntegrityError:
        # Two administrators adding the same policy at once: the unique constraint decides.
        db.session.rollback()
        raise Conflict(
            _("Another policy for this category and urgency was saved meanwhile."), field="category"
        ) from None
    return policy


def _urgency_rank(urgency: str) -> int:
    return URGENCIES.index(urgency) if urgency in URGENCIES else len(URGENCIES)
