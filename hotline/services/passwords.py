"""The password policy, checked whenever a password is set (new users, password changes).

At least 10 characters, not the user's name, not one of the passwords that every guessing
list starts with, and not one character or a short pattern repeated. Existing passwords are
not re-checked at login: the policy applies from the next change, so no one is locked out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from hotline.services.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256  # a hash of a megabyte-long "password" would tie up a worker

COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common() -> frozenset[str]:
    """The bundled list of common passwords (hotline/services/common_passwords.txt)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check(password: str, username: str = "") -> None:
    """Raise InvalidInput (field "password") with the first rule the password breaks."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(_("The password needs at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(_("The password may have at most %(n)d characters.", n=MAX_LENGTH), field="password")
    lowered = password.lower()
    name = (username or "").strip().lower()
    if name and (lowered == name or name in lowered and len(name) * 2 > len(lowered)):
        raise InvalidInput(_("The password must not be (or mostly be) the user name."), field="password")
    if lowered in common() or _repeats(lowered):
        raise InvalidInput(
            _("This password is too common or too simple; choose a longer phrase of your own."), field="password"
        )


def _repeats(password: str) -> bool:
    """One character or a short pattern over and over: aaaaaaaaaa, abababababab, 123123123123."""
    for size in range(1, 5):
        unit = password[:size]
        if len(password) % size == 0 and unit * (len(password) // size) == password:
            return True
    return len(set(password)) < 4
