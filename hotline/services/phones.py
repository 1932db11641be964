"""Caller phone numbers: parsed with `phonenumbers`, stored in E.164, masked for departments."""

from __future__ import annotations

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l

from hotline.services.errors import InvalidInput


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return the number in E.164 (+8613800138000), or raise InvalidInput."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(str(_l("The caller's phone number is required.")), field="caller_phone")
    region = region or current_app.config["HOTLINE_PHONE_REGION"]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(str(_l("“%(phone)s” is not a valid phone number.", phone=text)), field="caller_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str, region: str | None = None) -> str:
    """The number as people in the hotline's region write it (national digits at home)."""
    region = region or current_app.config["HOTLINE_PHONE_REGION"]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == region:
        return str(number.national_number)
    return e164


def mask_phone(e164: str, region: str | None = None) -> str:
    """Hide the middle digits, as 12345 centres do: 13800138000 → 138****8000."""
    digits = display_phone(e164, region)
    prefix = "+" if digits.startswith("+") else ""
    digits = digits.lstrip("+")
    if len(digits) <= 7:
        return prefix + digits[:2] + "*" * max(len(digits) - 4, 0) + digits[-2:]
    return prefix + digits[:3] + "****" + digits[-4:]
