"""The demo city's unit tree (issue 17): two district governments, their street offices
(街道办事处) and a community (社区居委会) under one street; a lead and two handlers per district
and street; a few tickets sent down (下派) through the real services, one reply waiting for the
district's review (审核)."""

from __future__ import annotations

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, Role, Status, Ticket, User
from hotline.services.accounts.users import create_user
from hotline.services.ticketing import tickets, tree

# (code, name, parent code): districts first, then their streets, then the community.
UNITS: list[tuple[str, str, str | None]] = [
    ("dongcheng-gov", "东城区人民政府", None),
    ("xicheng-gov", "西城区人民政府", None),
    ("dongcheng-jianguo", "东城区建国街道办事处", "dongcheng-gov"),
    ("dongcheng-chaoyang", "东城区朝阳街道办事处", "dongcheng-gov"),
    ("dongcheng-heping", "东城区和平街道办事处", "dongcheng-gov"),
    ("xicheng-xinjie", "西城区新街街道办事处", "xicheng-gov"),
    ("xicheng-huayuan", "西城区花园街道办事处", "xicheng-gov"),
    ("dongcheng-jianguo-renmin", "建国街道人民路社区居委会", "dongcheng-jianguo"),
]
HANDLERS = ("李", "王")


def seed_tree(password: str, dispatcher: User, play: bool = True) -> dict[str, User]:
    """The units and their people, then a few tickets waiting at the desk sent to the districts
    and down (as many as the desk can spare, keeping some for the dispatcher); the new users."""
    units: dict[str, Department] = {}
    for code, name, parent in UNITS:
        units[code] = Department(code=code, name=name, parent=units[parent] if parent else None)
        db.session.add(units[code])
    db.session.commit()
    people: dict[str, User] = {}
    for code, name, _parent in UNITS:
        # The unit's lead is its `dept-` user, as for every department of the demo; two handlers.
        lead = create_user(f"dept-{code}", Role.DEPARTMENT, password, code, f"{name} 负责人", demo_city=True)
        lead.is_unit_lead = True
        people[lead.username] = lead
        community = parent_of(code) is not None and parent_of(parent_of(code) or "") is not None
        count = 1 if community else 2  # a community has one handler besides its lead
        for n in range(count):
            handler = create_user(
                f"dept-{code}-{n + 1}", Role.DEPARTMENT, password, code, f"{name} {HANDLERS[n]}干事", demo_city=True
            )
            people[handler.username] = handler
    db.session.commit()
    if play:
        _send_down(people, dispatcher)
    return people


def parent_of(code: str) -> str | None:
    return next((parent for unit, _name, parent in UNITS if unit == code), None)


def _send_down(people: dict[str, User], dispatcher: User) -> None:
    # Tickets waiting at the desk, then ones a bureau has not signed for yet (reassigned to a
    # district, 改派), keeping a couple of each for the pages that show those states.
    spare: list[Ticket] = []
    for status in (Status.PENDING_DISPATCH, Status.DISPATCHED):
        found = list(
            db.session.scalars(select(Ticket).where(Ticket.status == status).order_by(Ticket.created_at.desc()))
        )
        spare += found[: max(0, len(found) - 2)]
    stories = (
        _reviewed_and_resolved,
        _assigned_by_the_lead,
        _down_to_the_community,
        _waiting_for_review,
        _sent_not_signed,
    )
    for ticket, story in zip(spare, stories, strict=False):
        story(ticket, people, dispatcher)


def _take(ticket: Ticket, unit: str, people: dict[str, User], dispatcher: User) -> None:
    tickets.dispatch(dispatcher, ticket, unit)
    tickets.accept(people[f"dept-{unit}-1"], ticket)


def _reviewed_and_resolved(ticket: Ticket, people: dict[str, User], dispatcher: User) -> None:
    _take(ticket, "dongcheng-gov", people, dispatcher)
    tree.subdispatch(people["dept-dongcheng-gov-1"], ticket, "dongcheng-heping")
    tickets.accept(people["dept-dongcheng-heping-1"], ticket)
    tickets.resolve(people["dept-dongcheng-heping-1"], ticket, "街道已联系市民并现场处理完毕。")
    tree.review(people["dept-dongcheng-gov"], ticket, True, "")


def _down_to_the_community(ticket: Ticket, people: dict[str, User], dispatcher: User) -> None:
    _take(ticket, "dongcheng-gov", people, dispatcher)
    tree.subdispatch(people["dept-dongcheng-gov-1"], ticket, "dongcheng-jianguo", note="请街道现场核实")
    tickets.accept(people["dept-dongcheng-jianguo-1"], ticket)
    tree.subdispatch(people["dept-dongcheng-jianguo-1"], ticket, "dongcheng-jianguo-renmin", note="请社区上门走访")
    tickets.accept(people["dept-dongcheng-jianguo-renmin-1"], ticket)


def _waiting_for_review(ticket: Ticket, people: dict[str, User], dispatcher: User) -> None:
    _take(ticket, "dongcheng-gov", people, dispatcher)
    tree.subdispatch(people["dept-dongcheng-gov-1"], ticket, "dongcheng-chaoyang")
    tickets.accept(people["dept-dongcheng-chaoyang-2"], ticket)
    tickets.resolve(people["dept-dongcheng-chaoyang-2"], ticket, "街道已会同物业现场处理，问题已解决。")


def _sent_not_signed(ticket: Ticket, people: dict[str, User], dispatcher: User) -> None:
    _take(ticket, "xicheng-gov", people, dispatcher)
    tree.subdispatch(people["dept-xicheng-gov-1"], ticket, "xicheng-xinjie", note="请三日内答复")


def _assigned_by_the_lead(ticket: Ticket, people: dict[str, User], dispatcher: User) -> None:
    _take(ticket, "xicheng-gov", people, dispatcher)
    tree.assign(people["dept-xicheng-gov"], ticket, "dept-xicheng-gov-2")
    tickets.resolve(people["dept-xicheng-gov-2"], ticket, "区政府已协调相关部门处理，问题已解决。")
