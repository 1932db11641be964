"""Factories for test data: small functions that build committed rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from hotline.extensions import db
from hotline.models import Category, Department, District, Role, Ticket, User
from hotline.services.accounts.users import create_user
from hotline.services.ticketing import tickets
from hotline.services.ticketing.tickets import Intake

PASSWORD = "correct-horse-9"
_serial = count(1)


def make_department(code: str | None = None, name: str | None = None) -> Department:
    code = code or f"dept{next(_serial)}"
    department = Department(code=code, name=name or f"Department {code}")
    db.session.add(department)
    db.session.commit()
    return department


def make_district(code: str | None = None, name: str | None = None) -> District:
    code = code or f"district{next(_serial)}"
    district = District(code=code, name=name or f"District {code}")
    db.session.add(district)
    db.session.commit()
    return district


def make_category(
    code: str | None = None, department: Department | None = None, parent: Category | None = None, name: str = ""
) -> Category:
    code = code or f"cat{next(_serial)}"
    category = Category(code=code, name=name or f"Category {code}", default_department=department, parent=parent)
    db.session.add(category)
    db.session.commit()
    return category


def make_user(role: str, department: Department | None = None, username: str | None = None) -> User:
    username = username or f"{role}{next(_serial)}"
    return create_user(username, role, PASSWORD, department.code if department else None)


@dataclass
class City:
    roads: Department
    water: Department
    east: District
    west: District
    infrastructure: Category  # first level, routed to roads
    potholes: Category  # child of infrastructure, inherits roads
    water_supply: Category  # routed to water
    other: Category  # no default department anywhere: goes to the dispatcher
    operator: User
    dispatcher: User
    roads_staff: User
    water_staff: User
    supervisor: User
    admin: User
    extra: dict = field(default_factory=dict)


def make_city() -> City:
    roads = make_department("roads", "道路管理局")
    water = make_department("water", "水务局")
    infrastructure = make_category("infrastructure", roads, name="城乡建设")
    return City(
        roads=roads,
        water=water,
        east=make_district("east", "东城区"),
        west=make_district("west", "西城区"),
        infrastructure=infrastructure,
        potholes=make_category("potholes", None, infrastructure, name="道路坑洼"),
        water_supply=make_category("water-supply", water, name="供水"),
        other=make_category("other", None, name="其他"),
        operator=make_user(Role.OPERATOR, username="operator"),
        dispatcher=make_user(Role.DISPATCHER, username="dispatcher"),
        roads_staff=make_user(Role.DEPARTMENT, roads, username="roads_staff"),
        water_staff=make_user(Role.DEPARTMENT, water, username="water_staff"),
        supervisor=make_user(Role.SUPERVISOR, username="supervisor"),
        admin=make_user(Role.ADMIN, username="admin"),
    )


def intake(**overrides) -> Intake:
    values = {
        "caller_phone": "13800138000",
        "caller_name": "张三",
        "type": "complaint",
        "category": "potholes",
        "district": "east",
        "address": "东城区人民路 12 号",
        "description": "人民路路面有一个大坑，晚上很危险。",
    }
    values.update(overrides)
    return Intake(**values)


def make_ticket(actor: User, **overrides) -> Ticket:
    return tickets.create_ticket(actor, intake(**overrides)).ticket


def make_routed_ticket(actor: User, **overrides) -> Ticket:
    ticket = make_ticket(actor, **overrides)
    return tickets.route(ticket.id)
