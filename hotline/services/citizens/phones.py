"""Caller phone numbers: parsed with `phonenumbers`, stored in E.164, masked for departments
and in public texts."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from phonenumbers import Leniency

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


# --- phone numbers in free text ----------------------------------------------------------
#
# Public texts (Open311 requests, the status page's reply) must not carry a phone number,
# however it is written: 座机010-6552 1234, 139.0013.8000, 139 00 13 90 00, (010)65521234,
# full-width ０１０－６５５２１２３４. Two finders, because each misses what the other sees:
# `phonenumbers.PhoneNumberMatcher` knows the region's real numbers in any layout, and a
# digit-run pattern catches any 7+ digits joined by phone separators (local numbers without
# an area code, ID and card numbers). What must stay readable is taken out of both finders'
# sight first: ticket numbers (20261125-000042), dates and times.

MASK = "***"
MIN_DIGITS = 7  # shorter runs are amounts, years, room and house numbers, 12345 itself

# Digit groups joined by one separator each (space, dot, dash, slash) or by an area code in
# parentheses: (010)6552-1234, 0086 (10) 65521234; an ID number's final X goes with it.
_DIGIT_RUN = re.compile(
    r"\+?(?:\([0-9]{1,4}\)[ .\-]?)?[0-9]+"
    r"(?:(?:[ .\-/]?\([0-9]{1,4}\)[ .\-]?|[ .\-/])[0-9]+)*"
    r"(?:[Xx](?![A-Za-z]))?",
    re.ASCII,
)
_KEPT = re.compile(
    r"(?<![0-9])(?:"
    r"[0-9]{8}-[0-9]{6}"  # a ticket number
    r"|(?:19|20)[0-9]{2}[-./][0-9]{1,2}[-./][0-9]{1,2}"  # a date
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"  # a time
    r")(?![0-9])",
    re.ASCII,
)
# Dashes that NFKC leaves alone but people type between digits.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc", "-"))
_BLANK = "#"  # stands in for kept text: neither a digit nor a separator
_ANY_DIGIT = re.compile(r"\d")  # full-width digits too
_STRETCH = re.compile(r"[+(]*[0-9][0-9 .\-/()+]*", re.ASCII)


def mask_phones_in_text(text: str, region: str | None = None) -> str:
    """`text` with every phone-like number replaced, whole, by ***."""
    if not text or len(_ANY_DIGIT.findall(text)) < MIN_DIGITS:
        return text
    scan, origin = _scan_text(text)
    for kept in _KEPT.finditer(scan):
        scan = scan[: kept.start()] + _BLANK * (kept.end() - kept.start()) + scan[kept.end() :]
    region = region or current_app.config["HOTLINE_PHONE_REGION"]
    spans = [m.span() for m in _DIGIT_RUN.finditer(scan) if _digits(m.group()) >= MIN_DIGITS]
    # The matcher reads only the stretches of digits and separators (it is slow on long texts).
    # VALID, not POSSIBLE: POSSIBLE also takes 12345, postcodes and 8-digit amounts.
    for stretch in _STRETCH.finditer(scan):
        if _digits(stretch.group()) >= MIN_DIGITS:
            found = phonenumbers.PhoneNumberMatcher(stretch.group(), region, leniency=Leniency.VALID)
            spans += [
                _without_stray_parenthesis(scan, stretch.start() + m.start, stretch.start() + m.end) for m in found
            ]
    masked, last = [], 0
    for start, end in _merged(spans):
        start, end = origin[start], origin[end - 1] + 1  # back to the original text's characters
        masked += [text[last:start], MASK]
        last = end
    return "".join([*masked, text[last:]])


def _scan_text(text: str) -> tuple[str, list[int]]:
    """The text as the finders read it (NFKC: full-width digits and punctuation made ASCII),
    with, for each of its characters, the index of the original character it came from."""
    scan: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char).translate(_DASHES)
        scan.append(normal)
        origin.extend([index] * len(normal))
    return "".join(scan), origin


def _without_stray_parenthesis(scan: str, start: int, end: int) -> tuple[int, int]:
    """The matcher takes the "(" of "（139 0013 9000）" with the number: leave it to the text."""
    found = scan[start:end]
    if found.startswith("(") and found.count("(") > found.count(")"):
        start += 1
    elif found.endswith(")") and found.count(")") > found.count("("):
        end -= 1
    return start, end


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one, in order."""
    result: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result
