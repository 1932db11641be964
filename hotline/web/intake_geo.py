"""Where it happened, at intake (issue 18): the point the operator's form posts, and the open
tickets near it offered as likely duplicates beside the word-based ones."""

from __future__ import annotations

import math

from flask_babel import gettext as _

from hotline import labels
from hotline.models import Category, User
from hotline.services.city import geo
from hotline.services.ticketing import merging
from hotline.web.forms import no_nul

NEARBY = "nearby"


def coordinate(raw: str | None) -> float | None:
    """A coordinate from a form: blank is none; not a number is NaN, which the service refuses."""
    text = no_nul(raw or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan


def with_nearby(
    actor: User,
    found: list[merging.Likely],
    point: tuple[float, float] | None,
    category: Category | None,
    *,
    limit: int,
) -> list[merging.Likely]:
    """The word-based duplicates, each marked when it is also near the point, then the open
    tickets within the default radius (same category first) that the words did not find."""
    if point is None:
        return found
    near = geo.nearby(actor, *point, category_id=category.id if category else None, limit=limit)
    distances = {item.ticket.id: item.distance_m for item in near}
    for likely in found:
        if likely.ticket.id in distances:
            likely.reasons.append(f"{NEARBY}:{distances[likely.ticket.id]:.0f}")
    known = {likely.ticket.id for likely in found}
    extra = [
        merging.Likely(item.ticket, [f"{NEARBY}:{item.distance_m:.0f}"]) for item in near if item.ticket.id not in known
    ]
    return found + extra


def reason_label(reason: str) -> str:
    if reason.startswith(NEARBY + ":"):
        return _("%(metres)s m away", metres=reason.split(":", 1)[1])
    return str(labels.DUPLICATE_REASON_LABELS.get(reason, reason))
