"""What the databases can store: text without NUL (PostgreSQL refuses it) and without lone
surrogates (UTF-8 cannot encode them). Checked at the edge, so bad input is a 400, not a 500."""

from __future__ import annotations

from typing import Any


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_storable(value: Any) -> bool:
    """Every string in parsed JSON (keys included) is storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return all(all_storable(item) for item in value)
    if isinstance(value, dict):
        return all(storable(str(key)) and all_storable(item) for key, item in value.items())
    return True
