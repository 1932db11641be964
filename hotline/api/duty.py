"""The duty rota (值班表) of a unit: its dated shifts, read by its staff, supervisors and
admins, changed by its lead and admins (`services.city.duty`)."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, request

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.parsing import json_body, text
from hotline.api.responses import json_response
from hotline.models.types import utcnow
from hotline.services.city import duty

# What GET lists by default: shifts that ended at most this long ago, and all to come.
RECENT = timedelta(days=7)


@bp.get("/departments/<code>/duty-shifts")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def duty_shifts(code: str) -> Response:
    department = duty.department_by_code(code)
    duty.require_read(api_user(), department)
    since = duty.parse_moment(request.args.get("from"), "from") or utcnow() - RECENT
    until = duty.parse_moment(request.args.get("to"), "to")
    person = duty.on_duty(department.id, utcnow())
    return json_response(
        {
            "department": department.code,
            "on_duty_now": person.username if person else None,
            "shifts": [duty.as_dict(shift) for shift in duty.shifts(department, since, until)],
        }
    )


@bp.post("/departments/<code>/duty-shifts")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def add_duty_shift(code: str) -> Response:
    department = duty.department_by_code(code)
    duty.require_edit(api_user(), department)  # before reading the body: one who may not learns nothing
    body = json_body(("user", "starts_at", "ends_at", "phone"))
    given = duty.ShiftInput(
        user=text(body, "user", required=True) or "",
        starts_at=duty.parse_moment(body.get("starts_at"), "starts_at"),
        ends_at=duty.parse_moment(body.get("ends_at"), "ends_at"),
        phone=text(body, "phone", default="") or "",
    )
    shift = duty.add_shift(api_user(), department, given)
    return json_response(duty.as_dict(shift), 201)


@bp.delete("/departments/<code>/duty-shifts/<int:shift_id>")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def delete_duty_shift(code: str, shift_id: int) -> Response:
    department = duty.department_by_code(code)
    duty.delete_shift(api_user(), department, shift_id)
    return Response(status=204)
