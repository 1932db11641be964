"""The directory a CTI system fills its forms from: departments, districts, categories (by code).

Each resource is described once, by its output schema: it writes the JSON and the OpenAPI
document's component of the same name (DepartmentSchema: "Department")."""

from __future__ import annotations

from flask import Response
from marshmallow import fields

from hotline.api.auth import api_roles
from hotline.api.blueprint import bp
from hotline.api.queries import categories, departments, districts
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Output


class DepartmentSchema(Output):
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent = Code(required=True, allow_none=True)


class DistrictSchema(Output):
    code = fields.String(required=True)
    name = fields.String(required=True)


class CategorySchema(Output):
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent = Code(required=True, allow_none=True)
    default_department = Code(required=True, allow_none=True)


DEPARTMENTS = DepartmentSchema(many=True)
DISTRICTS = DistrictSchema(many=True)
CATEGORIES = CategorySchema(many=True)


@bp.get("/departments")
@api_roles()
def list_departments() -> Response:
    return json_response(DEPARTMENTS.dump(departments()))


@bp.get("/districts")
@api_roles()
def list_districts() -> Response:
    return json_response(DISTRICTS.dump(districts()))


@bp.get("/categories")
@api_roles()
def list_categories() -> Response:
    return json_response(CATEGORIES.dump(categories()))
