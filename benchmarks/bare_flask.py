"""A bare Flask app: one view answering what `GET /api/v1/ping` answers, and nothing else (no
extensions, no hooks, no session secret, no logging per request).

The floor of a request in this stack: benchmarks/ping.py and benchmarks/intake.py serve it under
the same gunicorn settings as the hotline, and print ping's rate beside it.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/api/v1/ping")
def ping() -> dict:
    return {"ok": True}
