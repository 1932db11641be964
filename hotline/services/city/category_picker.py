"""What the intake form's category picker searches: each category's full path (分类 › 子类), its
pinyin (full and initials: 路灯 → ludeng, ld) and the categories the operator chose last.

A city's tree has hundreds of categories, dozens of them named 其他, so a category is found and
shown by its path; operators type pinyin initials faster than they scroll.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, Ticket, User

PATH_SEPARATOR = " › "
RECENT_SHOWN = 5
RECENT_SCANNED = 50  # the operator's latest tickets read for their recent categories


@dataclass(frozen=True)
class Choice:
    code: str
    names: tuple[str, ...]  # the path from the top: ("城乡建设", "市政设施", "路灯")

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def depth(self) -> int:
        return len(self.names) - 1

    @property
    def path(self) -> str:
        return PATH_SEPARATOR.join(self.names)

    @property
    def pinyin(self) -> str:
        """The whole path's pinyin: "chengxiangjianshe...ludeng cxjs...ld"."""
        return pinyin_keys(self.names)

    @property
    def leaf_pinyin(self) -> str:
        return pinyin_keys(self.names[-1:])


def choices() -> list[Choice]:
    """The category tree, depth first (parents before their children, siblings by name)."""
    categories = list(db.session.scalars(select(Category)))
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    found: list[Choice] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, names: tuple[str, ...]) -> None:
        for category in sorted(children.get(parent_id, []), key=lambda c: (c.name, c.code)):
            if category.id in seen:  # a cycle in bad data must not loop forever
                continue
            seen.add(category.id)
            path = (*names, category.name)
            found.append(Choice(category.code, path))
            walk(category.id, path)

    walk(None, ())
    return found


def searchable() -> dict[str, list[str]]:
    """For the picker: each category's code → its path, its path's pinyin and its name's."""
    return {choice.code: [choice.path, choice.pinyin, choice.leaf_pinyin] for choice in choices()}


def pinyin_keys(names: tuple[str, ...]) -> str:
    """The path in pinyin, lower case: each level's full pinyin run together, then its initials
    (路灯 → "ludeng ld"); other letters and digits stay as they are (95598, ATM)."""
    full = "".join(_pinyin(name)[0] for name in names)
    initials = "".join(_pinyin(name)[1] for name in names)
    return f"{full} {initials}"


@lru_cache(maxsize=4096)
def _pinyin(name: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin  # its dictionaries load on first use: intake pages only

    syllables = [s for s in lazy_pinyin(name.lower(), errors="default") if s.strip()]
    initials = [s for s in lazy_pinyin(name.lower(), style=Style.FIRST_LETTER, errors="default") if s.strip()]
    squash = "".join
    return squash(syllables).replace(" ", ""), squash(initials).replace(" ", "")


def recent_codes(actor: User, limit: int = RECENT_SHOWN) -> list[str]:
    """The categories of the operator's latest tickets, latest first, each once."""
    rows = db.session.execute(
        select(Category.code)
        .join(Ticket, Ticket.category_id == Category.id)
        .where(Ticket.created_by_id == actor.id)
        .order_by(Ticket.created_at.desc())
        .limit(RECENT_SCANNED)
    ).scalars()
    return list(dict.fromkeys(rows))[:limit]
