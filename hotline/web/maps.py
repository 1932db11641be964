"""Maps for each desk (issue 18): unit staff see their open tickets coloured by deadline,
supervisors see tickets and hotspots with the dashboard's filters, administrators see the loaded
geography. Leaflet is served from static/vendor/leaflet; the tile layer is HOTLINE_MAP_TILES_URL
when set, otherwise the district outlines and places are the (vector, offline) background."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from hotline.models import Category, Department, District, Role, Ticket
from hotline.services.accounts import access
from hotline.services.city import geo_maps
from hotline.services.city.directory import by_code
from hotline.services.errors import InvalidInput
from hotline.web import map_areas
from hotline.web.formatting import sla_state
from hotline.web.forms import category_choices, department_choices, district_choices, no_nul
from hotline.web.guards import roles_required

bp = Blueprint("maps", __name__)


@bp.get("/maps/unit")
@roles_required(Role.DEPARTMENT)
def unit():
    """The unit's open tickets on a map, coloured as the workbench colours their deadlines."""
    found, more = geo_maps.tickets_on_map(current_user)
    return _page("unit", found, more, hotspots=[])


@bp.get("/maps/city")
@roles_required(*access.SUPERVISE_ROLES)
def city():
    """Tickets and hotspots for supervisors, with the dashboard's filters."""
    filters, chosen, errors = _filters()
    found, more = geo_maps.tickets_on_map(current_user, filters)
    drawn = map_areas.for_city_page(filters, chosen, errors)  # hotspot areas (issue 18 item 4)
    return _page("city", found, more, hotspots=geo_maps.hotspots_on_map(), chosen=chosen, errors=errors, **drawn)


@bp.get("/admin/geography")
@roles_required(Role.ADMIN)
def geography():
    """The loaded district outlines and gazetteer, on a map."""
    return _page("geography", [], False, hotspots=[])


def _filters() -> tuple[geo_maps.MapFilters, dict[str, str], list[str]]:
    chosen = {name: no_nul(request.args.get(name, "")).strip()[:64] for name in ("department", "category", "district")}
    chosen["scope"] = "all" if request.args.get("scope") == "all" else "open"
    filters = geo_maps.MapFilters(open_only=chosen["scope"] == "open")
    errors = []
    for name, model in (("department", Department), ("category", Category), ("district", District)):
        try:
            row = by_code(model, chosen[name] or None, name)
        except InvalidInput as error:  # an unknown code: say so, show the map unfiltered by it
            errors.append(error.message)
            chosen[name] = ""
            continue
        setattr(filters, f"{name}_id", row.id if row is not None else None)
    return filters, chosen, errors


def _page(
    kind: str,
    found: list[Ticket],
    more: bool,
    *,
    hotspots: list[dict[str, Any]],
    areas_json: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> str:
    shown = extra.get("shown_area")
    data = {
        **geo_maps.background(),
        "tiles": current_app.config.get("HOTLINE_MAP_TILES_URL") or None,
        "attribution": current_app.config.get("HOTLINE_MAP_TILES_ATTRIBUTION") or "",
        "tickets": [_ticket_json(ticket) for ticket in found],
        "hotspots": [{**spot, "url": url_for("hotspots.show", hotspot_id=spot["id"])} for spot in hotspots],
        "areas": areas_json or [],
        "area": shown["area"].id if shown else None,
    }
    return render_template(
        "maps/map.html",
        kind=kind,
        data=data,
        count=len(found),
        more=more,
        limit=geo_maps.MAX_TICKETS,
        departments=department_choices() if kind == "city" else [],
        categories=category_choices() if kind == "city" else [],
        districts=district_choices() if kind == "city" else [],
        **extra,
    )


def _ticket_json(ticket: Ticket) -> dict[str, Any]:
    level = sla_state(ticket)
    return {
        "number": ticket.number,
        "url": url_for("tickets.show", number=ticket.number),
        "lat": ticket.lat,
        "long": ticket.long,
        "category": ticket.category.name,
        "status": ticket.status,
        # ok | amber | red as the workbench shows deadlines; "none" where no clock runs
        "level": "none" if level is None else (level or "ok"),
    }
