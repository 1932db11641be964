"""The password policy, checked whenever a person sets a password (new users, password changes:
`flask users create`, `flask users set-password`, the "Change password" page).

At least 12 characters; not the user's name nor the demo city's published password (nor mostly
either); not one of the passwords that every guessing list starts with, nor one character or a
short pattern repeated; and hard enough to guess for zxcvbn, the strength estimator, which also
knows the user's own names, dictionary words, keyboard walks, dates and l33t spellings (OWASP
ASVS 2.1). Existing passwords are not re-checked at login: the policy applies from the next
change, so no one is locked out. The demo city's users keep the demo password (`seed-demo`
makes them without this check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from hotline.services.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256  # a hash of a megabyte-long "password" would tie up a worker
MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable", about 10^8 guesses and more
ESTIMATED_LENGTH = 72  # zxcvbn's limit
DEMO_PASSWORD = "hotline-demo"  # published in the README: the demo city's only
MIN_OTHER_LETTERS = 6  # letters beside the user name (or demo password) for it not to be "mostly" that
_NOT_LETTERS = re.compile(r"[\W_\d]+")

COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common() -> frozenset[str]:
    """The bundled list of common passwords (hotline/services/accounts/common_passwords.txt)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check(password: str, username: str = "", names: Iterable[str] = ()) -> None:
    """Raise InvalidInput (field "password") with the first rule the password breaks; `names` are
    the user's other names (the display name), which the estimator counts as easy to guess."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(_("The password needs at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(_("The password may have at most %(n)d characters.", n=MAX_LENGTH), field="password")
    lowered = password.lower()
    name = (username or "").strip().lower()
    if _mostly(lowered, name):
        raise InvalidInput(_("The password must not be (or mostly be) the user name."), field="password")
    if _mostly(lowered, DEMO_PASSWORD):
        raise InvalidInput(_("The password must not be the demo city's published password."), field="password")
    if lowered in common() or _repeats(lowered):
        raise InvalidInput(
            _("This password is too common or too simple; choose a longer phrase of your own."), field="password"
        )
    known = _known_words(name, names)
    # zxcvbn refuses more than 72 characters (its time grows with the length): a longer phrase
    # is judged by its beginning, and a pattern repeated throughout shows there too.
    if zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=known)["score"] < MIN_SCORE:
        raise InvalidInput(
            _(
                "This password is too easy to guess (a common word, name, date or pattern); "
                "choose a longer phrase of your own."
            ),
            field="password",
        )


def _mostly(password: str, word: str) -> bool:
    """`word`, repeated or dressed with digits and signs (operator2operator2, Operator2-2026!):
    fewer than a few letters are left once every `word` is taken out."""
    if not word or word not in password:
        return False
    return len(_NOT_LETTERS.sub("", password.replace(word, ""))) < MIN_OTHER_LETTERS


def _known_words(username: str, names: Iterable[str]) -> list[str]:
    """What the estimator must count as easy for this user: names whole, run together and by
    part (张伟 / "Zhang Wei" -> "zhang wei", "zhangwei", "zhang", "wei"), and the hotline's own."""
    words = [username, DEMO_PASSWORD, "hotline", "12345"]
    for name in names:
        name = (name or "").strip().lower()
        words += [name, _NOT_LETTERS.sub("", name), *re.split(r"[\W_]+", name)]
    return list(dict.fromkeys(word for word in words if word))


def _repeats(password: str) -> bool:
    """One character or a short pattern over and over: aaaaaaaaaa, abababababab, 123123123123."""
    for size in range(1, 5):
        unit = password[:size]
        if len(password) % size == 0 and unit * (len(password) // size) == password:
            return True
    return len(set(password)) < 4
