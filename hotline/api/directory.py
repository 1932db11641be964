"""The directory a CTI system fills its forms from: departments, districts, categories (by code)."""

from __future__ import annotations

from flask import Response

from hotline.api.auth import api_roles
from hotline.api.blueprint import bp
from hotline.api.queries import categories, departments, districts
from hotline.api.responses import json_response
from hotline.api.serializers import category_json, department_json, district_json


@bp.get("/departments")
@api_roles()
def list_departments() -> Response:
    return json_response([department_json(row) for row in departments()])


@bp.get("/districts")
@api_roles()
def list_districts() -> Response:
    return json_response([district_json(row) for row in districts()])


@bp.get("/categories")
@api_roles()
def list_categories() -> Response:
    return json_response([category_json(row) for row in categories()])
