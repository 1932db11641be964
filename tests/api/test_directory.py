"""The directory: departments, districts and categories by code, for any signed-in role."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from tests import factories


def test_departments_with_their_parent(api, city):
    child = factories.make_department("roads-east", "东城道路所")
    child.parent = city.roads
    db.session.commit()
    body = api(city.operator).get("/api/v1/departments").get_json()
    assert body == [
        {"code": "roads", "name": "道路管理局", "parent": None},
        {"code": "roads-east", "name": "东城道路所", "parent": "roads"},
        {"code": "water", "name": "水务局", "parent": None},
    ]


def test_districts(api, city):
    assert api(city.operator).get("/api/v1/districts").get_json() == [
        {"code": "east", "name": "东城区"},
        {"code": "west", "name": "西城区"},
    ]


def test_categories_with_parent_and_default_department(api, city):
    body = {row["code"]: row for row in api(city.operator).get("/api/v1/categories").get_json()}
    assert body == {
        "infrastructure": {"code": "infrastructure", "name": "城乡建设", "parent": None, "default_department": "roads"},
        # The default is the category's own: potholes inherit roads through their parent, but name none.
        "potholes": {"code": "potholes", "name": "道路坑洼", "parent": "infrastructure", "default_department": None},
        "water-supply": {"code": "water-supply", "name": "供水", "parent": None, "default_department": "water"},
        "other": {"code": "other", "name": "其他", "parent": None, "default_department": None},
    }


@pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor", "admin"])
@pytest.mark.parametrize("path", ["/api/v1/departments", "/api/v1/districts", "/api/v1/categories"])
def test_any_role_may_read_the_directory(api, city, who, path):
    response = api(getattr(city, who)).get(path)
    assert response.status_code == 200
    assert len(response.get_json()) >= 2
