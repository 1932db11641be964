"""The objects the authorisation matrix calls its routes on, built lazily per test.

`World` is a mapping for `str.format_map`: "{ticket.number}" in a route's URL builds the
roads department's dispatched ticket on first use. `fresh()` forgets what was built, so a
mutating action gets a new object in the right state for each role allowed to do it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import ApiToken, DutyPattern, DutyShift, Hotspot, HotspotStatus, User, WebReport
from hotline.models.types import utcnow
from hotline.services.accounts import users
from hotline.services.citizens import calls, outbox
from hotline.services.city import areas, duty
from hotline.services.clocks import policies
from hotline.services.dispatch import routing
from hotline.services.hotspot_detection import hotspots
from hotline.services.knowledge_base import knowledge
from hotline.services.ticketing import attachments, deadlines, merging, returns, tickets, tree
from tests import attachment_files, factories
from tests.knowledge_factories import make_article

ESTATES = ["幸福小区", "和平小区", "光明小区", "阳光花园", "春晖苑", "翠湖湾"]
NOISE = [
    "幸福小区旁边工地夜间施工噪音扰民，凌晨还在打桩，居民无法休息。",
    "幸福小区附近工地晚上施工噪音很大，打桩声音扰民睡不着。",
    "投诉幸福小区边上的工地夜间施工，噪音扰民严重，希望制止。",
    "幸福小区工地夜里施工打桩，噪音扰民，老人孩子无法入睡。",
    "幸福小区旁工地深夜施工噪音扰民，请管一管夜间打桩。",
]


class World(dict):
    """name -> object; missing names are built by the method `make_<name>`."""

    def __init__(self, city: factories.City) -> None:
        super().__init__()
        self.city = city
        self._calls = 0
        self._estates = 0

    def __missing__(self, name: str) -> Any:
        maker: Callable[[], Any] | None = getattr(self, f"make_{name}", None)
        if maker is None:
            raise KeyError(name)
        value = maker()
        self[name] = value
        return value

    def fresh(self) -> None:
        """Forget the objects built so far (the users stay: they are the city's)."""
        keep = {name: self[name] for name in ("other_operator",) if name in self}
        self.clear()
        self.update(keep)

    def fill(self, value: Any, json_body: bool = False) -> Any:
        """`value` with its "{...}" placeholders filled in (strings, lists and dicts of them)."""
        if isinstance(value, str):
            return value.format_map(self)
        if isinstance(value, list):
            return [self.fill(item, json_body) for item in value]
        if isinstance(value, dict):
            filled = {key: self.fill(item, json_body) for key, item in value.items()}
            if isinstance(filled.get("version"), str) and json_body:
                filled["version"] = int(filled["version"])  # the API wants a number
            return filled
        return value

    # --- tickets -------------------------------------------------------------------------

    def make_ticket(self):
        """Routed to the roads department (potholes inherit it): dispatched, to be accepted."""
        return factories.make_routed_ticket(self.city.operator)

    def make_attachment(self):
        """A photo on the roads department's ticket (issue 18 item 5)."""
        return attachments.add(self.city.roads_staff, self["ticket"], attachment_files.photo_with_location())

    def make_public_photo(self):
        """A photo marked public on the roads department's ticket: Open311's media_url serves it."""
        return attachments.add(
            self.city.roads_staff, self["ticket"], attachment_files.photo_with_location(), public=True
        )

    def make_board_photo(self):
        """A photo marked public on a web report the citizen put on the public board (issue 18)."""
        db.session.add(WebReport(ticket_id=self["ticket"].id, topic="road", public=True))
        db.session.commit()
        return attachments.add(None, self["ticket"], attachment_files.photo_with_location(), public=True)

    def make_accepted(self):
        ticket = factories.make_routed_ticket(self.city.operator)
        return tickets.accept(self.city.roads_staff, ticket)

    def make_waiting(self):
        ticket = self.make_accepted()
        return deadlines.wait_on_citizen(self.city.roads_staff, ticket, "请提供现场照片")

    def make_resolved(self):
        """Resolved by roads, its survey unanswered: for the callback (回访, issue 17)."""
        ticket = self.make_accepted()
        return tickets.resolve(self.city.roads_staff, ticket, "已修复。")

    def make_extension(self):
        """In progress with roads, an extension request waiting for a supervisor."""
        ticket = self.make_accepted()
        deadlines.request_extension(self.city.roads_staff, ticket, 3, "需要协调施工单位")
        return ticket

    def make_returning(self):
        """Roads asked to return it after the return window: a request for a supervisor."""
        ticket = factories.make_routed_ticket(self.city.operator)
        ticket.dispatched_at -= timedelta(days=30)
        db.session.commit()
        returns.return_to_dispatch(self.city.roads_staff, ticket, "属于燃气公司", reason_code="not_our_remit")
        assert returns.pending_request(ticket) is not None
        return ticket

    def make_assisted(self):
        """Led by water, roads assisting (协办)."""
        ticket = factories.make_ticket(self.city.operator, category="other")
        ticket = tickets.route(ticket.id)
        tickets.dispatch(self.city.dispatcher, ticket, "water", assisting=["roads"])
        return ticket

    # --- units in a tree (issue 17) ----------------------------------------------------------

    def make_sub_unit(self):
        """A street office under roads, with one staff member."""
        unit = factories.make_department("roads-east", "道路管理局东街道所")
        unit.parent = self.city.roads
        db.session.commit()
        factories.make_user("department", unit, username="roads_east_staff")
        return unit

    def _sub_staff(self) -> User:
        self["sub_unit"]
        return db.session.scalar(select(User).where(User.username == "roads_east_staff"))

    def make_sent_down_to_roads(self):
        """Dispatched to the works bureau above roads, accepted there and sent down to roads."""
        works = factories.make_department("works", "城建局")
        self.city.roads.parent = works
        db.session.commit()
        boss = factories.make_user("department", works, username="works_staff")
        ticket = factories.make_ticket(self.city.operator, category="other")
        ticket = tickets.route(ticket.id)
        tickets.dispatch(self.city.dispatcher, ticket, "works")
        tickets.accept(boss, ticket)
        return tree.subdispatch(boss, ticket, "roads", note="请核实")

    def make_replied(self):
        """Roads sent it down to its street office, which replied: the reply waits for roads' review."""
        ticket = self.make_accepted()
        tree.subdispatch(self.city.roads_staff, ticket, self["sub_unit"].code)
        staff = self._sub_staff()
        tickets.accept(staff, ticket)
        return tickets.resolve(staff, ticket, "已修复路面。")

    def make_lead_ticket(self):
        """Accepted by roads, whose staff member is the unit lead; a colleague to name handler."""
        self.city.roads_staff.is_unit_lead = True
        db.session.commit()
        factories.make_user("department", self.city.roads, username="roads_colleague")
        return self.make_accepted()

    def _other_operator(self) -> User:
        if "other_operator" not in self:
            self["other_operator"] = factories.make_user("operator", username="operator2")
        return self["other_operator"]

    def make_secret(self):
        """Confidential (保密件), logged by another operator, held by roads."""
        ticket = factories.make_ticket(self._other_operator(), confidential=True)
        return tickets.route(ticket.id)

    def make_secret_photo(self):
        """A photo on the confidential ticket held by roads (issue 18 item 5)."""
        return attachments.add(self.city.roads_staff, self["secret"], attachment_files.photo_with_location())

    def make_secret_pending(self):
        """Confidential, logged by another operator, waiting at the dispatch desk."""
        ticket = factories.make_ticket(self._other_operator(), confidential=True, category="other")
        return tickets.route(ticket.id)

    def make_pending(self):
        """No rule places "other": it waits at the dispatch desk."""
        ticket = factories.make_ticket(self.city.operator, category="other", description="井盖丢失，路人容易掉下去。")
        return tickets.route(ticket.id)

    def make_into(self):
        """Another ticket at the desk, for a merge."""
        ticket = factories.make_ticket(
            self.city.operator, category="other", caller_phone="13900139000", description="井盖丢失了。"
        )
        return tickets.route(ticket.id)

    # --- tickets that name a confidential one ----------------------------------------------

    def make_secret_child(self):
        """Confidential, another operator's, merged (by a supervisor) into the roads ticket."""
        child = factories.make_ticket(self._other_operator(), confidential=True, caller_phone="13700137000")
        return merging.merge_into(self.city.supervisor, child, self["ticket"].number)

    def make_merged_into_secret(self):
        """An ordinary ticket at the desk, merged (by a supervisor) into the confidential "secret"."""
        child = factories.make_ticket(
            self.city.operator, category="other", caller_phone="13600136000", description="井盖松动，车辆经过咣咣响。"
        )
        return merging.merge_into(self.city.supervisor, child, self["secret"].number)

    def make_secret_call(self):
        """A call on the line whose ticket is "secret" (another operator's confidential one)."""
        self._calls += 1
        call = calls.log_call(f"CS{self._calls:032d}", "+8613700137000", "+8653112345")
        calls.link_ticket(call, self["secret"])
        return call

    # --- the rest ------------------------------------------------------------------------

    def make_rule(self):
        fields = {"priority": 10, "name": "路灯归水务", "category": "infrastructure", "keywords": ["路灯"]}
        return routing.save_rule({**fields, "department": "water"})

    def make_policy(self):
        values = {
            "category": "potholes",
            "urgency": "normal",
            "accept_amount": 4,
            "accept_unit": "working_hours",
            "resolve_amount": 5,
            "resolve_unit": "working_days",
            "return_window_days": 1,
            "max_extension_days": 5,
        }
        return policies.create_policy(self.city.admin, values)

    def make_article(self):
        """Approved, owned by roads."""
        return make_article(
            self.city.roads_staff,
            self.city.supervisor,
            question="路灯不亮找谁？",
            answer="路灯由道路管理局在三个工作日内修复。",
            category="infrastructure",
            tags=["路灯"],
        )

    def make_draft(self):
        """A roads draft: only roads, supervisors and administrators see it."""
        return make_article(self.city.roads_staff, question="道路坑洼多久修复？", answer="五个工作日内。")

    def make_submitted(self):
        """A roads draft submitted for approval."""
        article = self.make_draft()
        knowledge.submit(self.city.roads_staff, article)
        return article

    def make_hotspot(self):
        # Each call its own estate: a fresh cluster, not the one an earlier caller dismissed or
        # assigned (detection keeps a cluster's hotspot while its tickets stay the same matter).
        self._estates += 1
        estate = ESTATES[self._estates % len(ESTATES)]
        now = utcnow()
        for i, text in enumerate(NOISE):
            ticket = factories.make_ticket(
                self.city.operator, description=text.replace("幸福小区", estate), address=estate
            )
            ticket.created_at = now - timedelta(minutes=10 * (i + 1))
        db.session.commit()
        hotspots.detect("day", now)
        return db.session.scalars(select(Hotspot).order_by(Hotspot.id.desc())).first()

    def make_dismissed(self):
        hotspot = self.make_hotspot()  # detection may find the one dismissed before
        if hotspot.status != HotspotStatus.DISMISSED:
            hotspots.dismiss(self.city.supervisor, hotspot)
        return hotspot

    def make_message(self):
        message, _created = outbox.queue_message("ack", "+8613800138000", "您的工单已受理。")
        return message

    def make_call(self):
        self._calls += 1
        return calls.log_call(f"CA{self._calls:032d}", "+8613800138000", "+8653112345")

    def make_missed(self):
        self._calls += 1
        call = calls.log_call(
            f"CM{self._calls:032d}", "+8613800138000", "+8653112345", now=utcnow() - timedelta(minutes=10)
        )
        return calls.end_call(call, "no-answer")

    # duty rota (值班, issue 17 item 4)
    def make_area(self):
        """A hotspot area drawn by the supervisor (issue 18 item 4), for its page and delete button."""
        return areas.save_area(
            self.city.supervisor, "人民路", [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]
        )

    def make_shift(self):
        """A dated shift on the roads department's rota, for the delete button."""
        self._shifts = getattr(self, "_shifts", 0) + 1
        start = datetime(2031, 1, 1, 10, tzinfo=UTC) + timedelta(days=self._shifts)
        duty.set_duty_phone(self.city.roads_staff, "+8613900139000")
        shift = DutyShift(
            department_id=self.city.roads.id,
            user_id=self.city.roads_staff.id,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
        )
        db.session.add(shift)
        db.session.commit()
        return shift

    def make_pattern(self):
        """A weekly rule on the roads department's rota."""
        pattern = DutyPattern(
            department_id=self.city.roads.id,
            user_id=self.city.roads_staff.id,
            day_kind="workday",
            starts="18:00",
            ends="09:00",
        )
        db.session.add(pattern)
        db.session.commit()
        return pattern

    def make_user(self) -> User:
        return factories.make_user("operator", username="other_operator")

    def make_token(self) -> ApiToken:
        """One of `user`'s API tokens, for the revoke buttons."""
        token = users.issue_token(self["user"], "cti-east")
        return db.session.scalar(select(ApiToken).where(ApiToken.digest == ApiToken.digest_of(token)))
