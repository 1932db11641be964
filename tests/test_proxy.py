"""X-Forwarded-* headers are trusted only when HOTLINE_PROXY_FIX or HOTLINE_TRUSTED_PROXIES says
so: without a proxy in front, a client could otherwise pick its own address (and escape the
status page's rate limit per IP) or make the app believe it was reached over HTTPS."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify, request, url_for

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from config import proxy_fix_from_env
from hotline import create_app
from hotline.services.platform import ratelimit

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.gov"}


def _app(monkeypatch: pytest.MonkeyPatch, **env: str) -> Flask:
    for name in ("HOTLINE_PROXY_FIX", "HOTLINE_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(_TestingConfig())

    @app.get("/_probe")
    def probe():
        return jsonify(addr=request.remote_addr, scheme=request.scheme, url=url_for("health.healthz", _external=True))

    return app


def test_forwarded_headers_are_ignored_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _app(monkeypatch).test_client().get("/_probe", headers=FORWARDED).get_json()
    assert data == {"addr": "127.0.0.1", "scheme": "http", "url": "http://localhost/healthz"}


@pytest.mark.parametrize(
    "env",
    [{"HOTLINE_PROXY_FIX": "x_for=1,x_proto=1,x_host=1"}, {"HOTLINE_TRUSTED_PROXIES": "1"}],
    ids=["proxy-fix", "trusted-proxies"],
)
def test_forwarded_headers_are_honoured_when_configured(monkeypatch: pytest.MonkeyPatch, env: dict) -> None:
    data = _app(monkeypatch, **env).test_client().get("/_probe", headers=FORWARDED).get_json()
    assert data == {"addr": "203.0.113.7", "scheme": "https", "url": "https://hotline.example.gov/healthz"}


def test_only_the_configured_number_of_proxies_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client forged the first address; the one proxy appended the address it saw.
    headers = {"X-Forwarded-For": "10.9.9.9, 198.51.100.4"}
    data = _app(monkeypatch, HOTLINE_TRUSTED_PROXIES="1").test_client().get("/_probe", headers=headers).get_json()
    assert data["addr"] == "198.51.100.4"


def test_status_page_rate_limit_counts_the_forwarded_address_only_behind_a_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys: list[str] = []
    real_hit = ratelimit.hit

    def recording_hit(limit, key, now=None):
        keys.append((limit.name, key))
        return real_hit(limit, key, now)

    monkeypatch.setattr(ratelimit, "hit", recording_hit)
    form = {"number": "20260101-000001", "digits": "1234"}
    for env, expected in (({}, "127.0.0.1"), ({"HOTLINE_TRUSTED_PROXIES": "1"}, "203.0.113.7")):
        keys.clear()
        response = _app(monkeypatch, **env).test_client().post("/status", data=form, headers=FORWARDED)
        assert response.status_code in (200, 429)
        assert ("status-ip", expected) in keys


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"HOTLINE_PROXY_FIX": "x_for=2, x_proto=1"}, {"x_for": 2, "x_proto": 1}),
        ({"HOTLINE_TRUSTED_PROXIES": "2"}, {"x_for": 2, "x_proto": 2, "x_host": 2, "x_port": 2}),
        ({"HOTLINE_TRUSTED_PROXIES": "0"}, None),
    ],
)
def test_proxy_fix_settings_are_read(monkeypatch: pytest.MonkeyPatch, env: dict, expected) -> None:
    for name in ("HOTLINE_PROXY_FIX", "HOTLINE_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_fix_from_env() == expected


@pytest.mark.parametrize("env", [{"HOTLINE_PROXY_FIX": "x_forwarded=1"}, {"HOTLINE_TRUSTED_PROXIES": "yes"}])
def test_bad_proxy_settings_stop_the_start_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, env: dict) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="HOTLINE_"):
        _TestingConfig()
