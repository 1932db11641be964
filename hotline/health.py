"""Health endpoints, without auth and without personal data (see `services.platform.health`).

- `GET /healthz`: for monitoring. 200 when everything is fine; 503 when the database or
  Redis is unreachable or jobs wait too long (`status` says `down` or `degraded`).
- `GET /readyz`: for the load balancer. 503 only when the database is unreachable: with
  Redis down the process still accepts tickets (routing is enqueued by the sweep later),
  so taking it out of rotation would only stop intake.
"""

from __future__ import annotations

from flask import Blueprint, Response

from hotline.api.responses import json_response
from hotline.services.platform import health

bp = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> Response:
    result = health.check()
    return json_response(result.as_json(), 200 if result.status == health.OK else 503, NO_STORE)


@bp.get("/readyz")
def readyz() -> Response:
    result = health.check()
    return json_response(result.as_json(), 503 if result.status == health.DOWN else 200, NO_STORE)
