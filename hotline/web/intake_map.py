"""The intake form's map (issue 18 item 2): the operator clicks where it happened; the page asks
here what the point says (its district, the gazetteer place nearest it and the unit handling that
place) and fills the form. The map's background (district outlines, places) is fetched once the
page is shown, so that the form itself renders no faster or slower for having a map."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from hotline.services.accounts import access
from hotline.services.city import geo, geo_maps, where
from hotline.services.errors import InvalidInput
from hotline.web.guards import roles_required
from hotline.web.intake_geo import coordinate

bp = Blueprint("intake_map", __name__)


@bp.get("/tickets/map.json")
@roles_required(*access.INTAKE_ROLES)
def background():
    """The city drawn as vectors (offline), and the tile layer when one is configured."""
    response = jsonify({**geo_maps.background(), "tiles": current_app.config.get("HOTLINE_MAP_TILES_URL") or None})
    response.cache_control.private = True
    response.cache_control.max_age = 300  # the geography changes when an administrator loads it again
    return response


@bp.get("/tickets/point.json")
@roles_required(*access.INTAKE_ROLES)
def point():
    """What the clicked point says: its district, and the handling unit of the place nearest it.
    A point outside the city's districts is refused as the form would refuse it, in words."""
    try:
        checked = geo.checked_point(coordinate(request.args.get("lat")), coordinate(request.args.get("long")))
        if checked is None:
            raise InvalidInput(_("lat and long go together: give both or neither."), field="lat")
        geo.locate(*checked)
    except InvalidInput as error:
        return jsonify({"error": error.message, "field": error.field}), 400
    found = where.describe(*checked)
    return jsonify(
        {
            "lat": checked[0],
            "long": checked[1],
            "district": found.district.code if found.district else None,
            "district_name": found.district.name if found.district else None,
            "place": found.place.name if found.place else None,
            "distance_m": round(found.distance_m) if found.distance_m is not None else None,
            "unit": found.unit.code if found.unit else None,
            "unit_name": found.unit.name if found.unit else None,
        }
    )
