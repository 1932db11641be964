"""The web pages, one blueprint per desk; views parse, call one service and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from hotline.web import auth, dispatch, home, intake, reports, tickets

    for module in (auth, home, intake, tickets, dispatch, reports):
        app.register_blueprint(module.bp)
