"""`GET /api/v1/ping`: {"ok": true}, without auth, database or Redis.

A liveness probe for a script or a CTI system, and the trivial endpoint that
benchmarks/intake.py measures ticket intake against.
"""

from __future__ import annotations

from flask import Response

from hotline.api.blueprint import bp
from hotline.api.responses import json_response


@bp.get("/ping")
def ping() -> Response:
    return json_response({"ok": True})
