"""Hotspot areas on the supervisors' map (issue 18 item 4): the drawn polygon saved under a name
(static/map_areas.js posts it), the selected area's tickets counted and listed beside the map with
the map's filters (/maps/city?area=ID), and deleted."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.services.accounts import access
from hotline.services.city import areas, geo_maps
from hotline.services.errors import InvalidInput, NotFound
from hotline.web.forms import DeleteForm, no_nul
from hotline.web.guards import expired, roles_required

bp = Blueprint("map_areas", __name__)

POINTS_MAX_CHARS = 40_000  # 500 points of two coordinates, with room to spare


@bp.post("/maps/areas")
@roles_required(*access.SUPERVISE_ROLES)
def save():
    """Save the drawn area: `name`, and `points` as JSON ([[lat, long], ...]). Answers JSON: 201
    with the page that shows the area, or 400 with the reason in words (the drawing is kept)."""
    raw = no_nul(request.form.get("points", ""))
    try:
        if len(raw) > POINTS_MAX_CHARS:
            raise InvalidInput(_("An area has at most %(n)d points.", n=areas.MAX_POINTS), field="points")
        try:
            points = json.loads(raw) if raw.strip() else []
        except ValueError:
            points = None  # the service says what it wants
        area = areas.save_area(current_user, no_nul(request.form.get("name", "")), points)
    except InvalidInput as error:
        return jsonify({"error": error.message, "field": error.field}), 400
    flash(_("Area “%(name)s” saved.", name=area.name), "success")
    return jsonify({"id": area.id, "url": url_for("maps.city", area=area.id)}), 201


@bp.post("/maps/areas/<int:area_id>/delete")
@roles_required(*access.SUPERVISE_ROLES)
def delete(area_id: int):
    form = DeleteForm()
    if refused := expired(form, url_for("maps.city", area=area_id)):
        return refused
    try:
        area = areas.get_area(area_id)
    except NotFound as error:
        flash(error.message, "warning")
        return redirect(url_for("maps.city"))
    name = area.name
    areas.delete_area(current_user, area)
    flash(_("Area “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("maps.city"))


def for_city_page(filters: geo_maps.MapFilters, chosen: dict[str, str], errors: list[str]) -> dict[str, Any]:
    """The city page's areas: all of them for the map, and the one chosen (?area=ID) with the
    tickets inside it under the page's filters."""
    shown = None
    raw = (request.args.get("area") or "").strip()
    if raw:
        try:
            area = areas.get_area(int(raw) if raw.isdigit() and len(raw) < 10 else 0)
        except NotFound:
            errors.append(_("No area %(id)s.", id=raw[:12]))
        else:
            shown = {"area": area, "inside": areas.tickets_in(current_user, area, filters)}
            chosen["area"] = str(area.id)
    listed = areas.list_areas()
    return {
        "areas": listed,
        "shown_area": shown,
        "areas_json": [
            {**areas.area_json(area), "url": url_for("maps.city", **{**_filter_args(chosen), "area": area.id})}
            for area in listed
        ],
        "area_form": DeleteForm(),
    }


def _filter_args(chosen: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in chosen.items() if value and name != "area"}
