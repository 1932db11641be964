"""The addresses machines call: the API (bearer tokens), Open311 (API keys) and Twilio's
webhooks (signed requests). None of them is signed in by the session cookie, so the hooks that
run on every request read no session there (the answer does not vary on the cookie), and their
answers, JSON, XML or TwiML rather than pages, carry the headers meant for such answers."""

from __future__ import annotations

MACHINE_PREFIXES = ("/api/", "/open311/", "/twilio/")


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES)
