"""The duty rota (值班表) of a unit: its dated shifts, read by its staff, supervisors and
admins, changed by its lead and admins (`services.city.duty`).

Described once: `DutyShiftSchema` and `DutyRotaSchema` write the answers (the document's
`DutyShift`, `DutyRota`); `DutyShiftInput` reads a new shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, request
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Code, Given, Id, Output, Text, Time, load_given, nullable, optional
from hotline.models.types import utcnow
from hotline.services.city import duty

# What GET lists by default: shifts that ended at most this long ago, and all to come.
RECENT = timedelta(days=7)


class ShiftTime(Time):
    """A shift's start or end, in UTC as it was given (to the microsecond if it was)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None


class DutyShiftSchema(Output):
    id = Id(required=True)
    department = Code(required=True, allow_none=True)
    user = Code(required=True, key="username")
    starts_at = ShiftTime(required=True)
    ends_at = ShiftTime(required=True)


class DutyRotaSchema(Output):
    department = Code(required=True)
    on_duty_now = nullable(Code(required=True, key="username"))
    shifts = fields.List(fields.Nested(DutyShiftSchema), required=True)


class Moment(Given):
    """A time the service reads (`duty.parse_moment`, with its message); missing: the service says."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime | None:
        return duty.parse_moment(value, self.name)


class DutyShiftInput(Body):
    user = Text(required=True)
    starts_at = Moment(
        required=True,
        metadata={"type": "string", "description": "ISO 8601; without an offset: the hotline's time zone."},
    )
    ends_at = Moment(
        required=True, metadata={"type": "string", "description": "After starts_at, at most 7 days later."}
    )
    phone = optional(Text(metadata={"description": "The person's duty phone; needed once, kept for the next shifts."}))


SHIFT = DutyShiftSchema()
ROTA = DutyRotaSchema()
SHIFT_INPUT = DutyShiftInput()


@bp.get("/departments/<code>/duty-shifts")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def duty_shifts(code: str) -> Response:
    department = duty.department_by_code(code)
    duty.require_read(api_user(), department)
    since = duty.parse_moment(request.args.get("from"), "from") or utcnow() - RECENT
    until = duty.parse_moment(request.args.get("to"), "to")
    rota = {
        "department": department,
        "on_duty_now": duty.on_duty(department.id, utcnow()),
        "shifts": duty.shifts(department, since, until),
    }
    return json_response(ROTA.dump(rota))


@bp.post("/departments/<code>/duty-shifts")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def add_duty_shift(code: str) -> Response:
    department = duty.department_by_code(code)
    duty.require_edit(api_user(), department)  # before reading the body: one who may not learns nothing
    body = load_given(SHIFT_INPUT)
    given = duty.ShiftInput(
        user=body["user"],
        starts_at=body.get("starts_at"),
        ends_at=body.get("ends_at"),
        phone=body.get("phone") or "",
    )
    shift = duty.add_shift(api_user(), department, given)
    return json_response(SHIFT.dump(shift), 201)


@bp.delete("/departments/<code>/duty-shifts/<int:shift_id>")
@api_roles()  # any signed-in user; the rota's own rule decides (`duty.may_read`, `may_edit`)
def delete_duty_shift(code: str, shift_id: int) -> Response:
    department = duty.department_by_code(code)
    duty.delete_shift(api_user(), department, shift_id)
    return Response(status=204)
