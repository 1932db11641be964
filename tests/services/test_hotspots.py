"""Hotspot detection (热点) and what supervisors do with a hotspot."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Hotspot, HotspotStatus, HotspotTicket, Status, Ticket, TicketEvent
from hotline.models.types import utcnow
from hotline.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.services.hotspot_detection import hotspot_clustering, hotspots
from tests import factories

NOISE = [
    "幸福小区旁边工地夜间施工噪音扰民，凌晨还在打桩，居民无法休息。",
    "幸福小区附近工地晚上施工噪音很大，打桩声音扰民睡不着。",
    "投诉幸福小区边上的工地夜间施工，噪音扰民严重，希望制止。",
    "幸福小区工地夜里施工打桩，噪音扰民，老人孩子无法入睡。",
    "幸福小区旁工地深夜施工噪音扰民，请管一管夜间打桩。",
]
LAMPS = [
    "和平路路灯不亮已经一个星期，晚上走路很黑。",
    "和平路的路灯坏了不亮，夜里行人看不清路。",
    "和平路一段路灯全部不亮，晚上很黑很危险。",
    "和平路路灯晚上不亮，请尽快维修路灯。",
]
# The same place as NOISE, another problem: a hotspot of its own, not part of the noise one.
WATER = [
    "幸福小区停水两天了，家里没有自来水做饭。",
    "幸福小区突然停水，也没有提前通知停水时间。",
    "幸福小区又停水了，自来水公司什么时候恢复供水？",
]
UNRELATED = [
    "我想咨询一下社保卡补办需要带什么材料。",
    "公交车司机态度恶劣，乘客上车时被辱骂。",
    "小学门口早上接送孩子的车辆乱停乱放造成拥堵。",
    "菜市场的猪肉价格明显高于其他市场，怀疑哄抬物价。",
    "医院挂号排队时间太长，希望增加窗口。",
    "邻居家的狗每天狂叫，还不拴绳。",
]


def log(city, texts, district="east", category="potholes", at=None, address=""):
    made = []
    for i, text in enumerate(texts):
        ticket = factories.make_ticket(
            city.operator, description=text, district=district, category=category, address=address
        )
        if at is not None:
            ticket.created_at = at - timedelta(minutes=10 * (i + 1))
        made.append(ticket)
    db.session.commit()
    return made


def members(hotspot: Hotspot) -> set[int]:
    return set(db.session.scalars(select(HotspotTicket.ticket_id).where(HotspotTicket.hotspot_id == hotspot.id)))


def active(window: str) -> list[Hotspot]:
    return list(
        db.session.scalars(
            select(Hotspot)
            .where(Hotspot.window_kind == window, Hotspot.active.is_(True))
            .order_by(Hotspot.ticket_count.desc())
        )
    )


def test_similar_complaints_in_one_place_are_found_and_unrelated_ones_are_not_merged(city) -> None:
    now = utcnow()
    noise = log(city, NOISE, "east", at=now)
    lamps = log(city, LAMPS, "west", category="infrastructure", at=now)
    # The same complaint from another district is another place: not part of the east hotspot.
    elsewhere = log(city, NOISE[:2], "west", at=now)
    others = log(city, UNRELATED, "east", at=now)
    water = log(city, WATER, "east", category="water-supply", at=now)

    result = hotspots.detect("week", now)

    assert result.tickets == len(NOISE) + len(LAMPS) + 2 + len(UNRELATED) + len(WATER)
    found = active("week")
    assert len(found) == 3, [(h.label, h.ticket_count) for h in found]
    noisy, dark, dry = found
    assert members(dry) == {t.id for t in water} and "停水" in dry.label
    assert members(noisy) == {t.id for t in noise}
    assert noisy.district == city.east
    assert "噪音" in noisy.label or "扰民" in noisy.label or "施工" in noisy.label
    assert noisy.categories == [["potholes", 5]]
    assert members(dark) == {t.id for t in lamps}
    assert dark.district == city.west and "路灯" in dark.label
    grouped = members(noisy) | members(dark)
    assert not grouped & {t.id for t in others + elsewhere}
    assert noisy.previous_count == 0 and noisy.growth is None  # new this week


def test_growth_counts_the_same_problem_in_the_window_before(city) -> None:
    now = utcnow()
    log(city, NOISE, "east", at=now)
    log(city, NOISE[:2], "east", at=now - timedelta(days=7))  # last week: two such calls
    log(city, NOISE[2:3], "west", at=now - timedelta(days=7))  # elsewhere: not counted

    hotspots.detect("week", now)

    (noisy,) = active("week")
    assert (noisy.ticket_count, noisy.previous_count) == (5, 2)
    assert noisy.growth == pytest.approx(1.5)


def test_growth_of_a_hotspot_without_a_district_counts_only_tickets_without_one(city) -> None:
    """The window before is read district by district in SQL; "no district" is a place too."""
    now = utcnow()
    log(city, NOISE, "", at=now)
    log(city, NOISE[:3], "", at=now - timedelta(days=7))
    log(city, NOISE[3:], "east", at=now - timedelta(days=7))  # a district: another place

    result = hotspots.detect("week", now)

    (noisy,) = active("week")
    assert noisy.district_id is None
    assert (noisy.ticket_count, noisy.previous_count) == (5, 3)
    assert result.previous_tickets == 3  # only the tickets that could count were read


def test_departments_involved_are_those_holding_the_tickets(city) -> None:
    now = utcnow()
    made = log(city, NOISE, "east", at=now)
    for ticket in made[:3]:
        factories.tickets.route(ticket.id)  # potholes inherit roads
    hotspots.detect("day", now)
    (noisy,) = active("day")
    assert noisy.departments == [["roads", 3]]


def test_a_later_run_updates_the_same_hotspot_and_keeps_what_supervisors_did(city) -> None:
    now = utcnow()
    log(city, NOISE[:4], "east", at=now)
    log(city, LAMPS, "west", category="infrastructure", at=now)
    hotspots.detect("week", now)
    noisy = next(h for h in active("week") if h.district == city.east)
    dark = next(h for h in active("week") if h.district == city.west)
    hotspots.name(city.supervisor, noisy, "  幸福小区  夜间施工 ")
    hotspots.follow(city.supervisor, noisy)
    first_seen = noisy.first_seen_at

    later = now + timedelta(hours=1)
    log(city, NOISE[4:], "east", at=later)
    for ticket in db.session.scalars(select(Ticket).where(Ticket.district_id == city.west.id)):
        ticket.created_at = now - timedelta(days=30)  # the lamps slid out of the week
    db.session.commit()
    result = hotspots.detect("week", later)

    db.session.expire_all()
    again = db.session.get(Hotspot, noisy.id)
    assert again is not None and again.active
    assert (again.name, again.ticket_count, again.first_seen_at) == ("幸福小区 夜间施工", 5, first_seen)
    assert again.followed_by(city.supervisor)
    assert again.window_end == later
    assert (result.created, result.updated, result.removed) == (0, 1, 1)
    assert db.session.get(Hotspot, dark.id) is None  # nobody did anything with it: gone


def test_a_hotspot_someone_acted_on_stays_when_it_fades(city) -> None:
    now = utcnow()
    log(city, LAMPS, "west", category="infrastructure", at=now)
    hotspots.detect("day", now)
    (dark,) = active("day")
    hotspots.follow(city.admin, dark)

    hotspots.detect("day", now + timedelta(days=3))

    db.session.expire_all()
    kept = db.session.get(Hotspot, dark.id)
    assert kept is not None and not kept.active and kept.ticket_count == 4
    assert len(members(kept)) == 4
    assert hotspots.followed(city.admin) == [kept]
    assert hotspots.top(city.admin, "day") == []


def test_the_same_group_found_again_after_its_tickets_changed_is_matched_by_its_terms(city) -> None:
    now = utcnow()
    log(city, NOISE[:3], "east", at=now)
    hotspots.detect("day", now)
    (first,) = active("day")
    hotspots.name(city.supervisor, first, "工地夜间施工")
    # A day later: three other calls about the same site, none of the first ones.
    later = now + timedelta(days=1, hours=1)
    log(city, NOISE[2:], "east", at=later)
    hotspots.detect("day", later)
    db.session.expire_all()
    (again,) = active("day")
    assert again.id == first.id and again.name == "工地夜间施工"


def test_merged_tickets_and_proactive_cases_are_left_out(city) -> None:
    now = utcnow()
    made = log(city, NOISE[:3], "east", at=now)
    made[0].status = Status.MERGED
    made[1].channel = hotspots.PROACTIVE_CHANNEL
    db.session.commit()
    result = hotspots.detect("day", now)
    assert result.tickets == 1 and active("day") == []


def test_assign_creates_a_proactive_case_dispatched_to_the_department(city) -> None:
    now = utcnow()
    made = log(city, NOISE, "east", at=now, address="幸福小区东门")
    hotspots.detect("week", now)
    (noisy,) = active("week")
    hotspots.name(city.supervisor, noisy, "幸福小区夜间施工")

    case = hotspots.assign(city.supervisor, noisy, "roads", "请组织夜间巡查")

    db.session.expire_all()
    case = db.session.get(Ticket, case.id)
    noisy = db.session.get(Hotspot, noisy.id)
    assert case.status == Status.DISPATCHED and case.department == city.roads
    assert case.resolve_due_at is not None  # the SLA clocks run as for any ticket
    assert (case.type, case.channel, case.caller_phone) == ("report", "proactive", "")
    assert case.category == city.potholes and case.district == city.east and case.address == "幸福小区东门"
    assert "幸福小区夜间施工" in case.description and "请组织夜间巡查" in case.description
    assert made[0].number in case.description or made[-1].number in case.description
    assert (noisy.status, noisy.proactive_ticket_id, noisy.assigned_department) == (
        HotspotStatus.ASSIGNED,
        case.id,
        city.roads,
    )
    assert noisy.assigned_by == city.supervisor and noisy.note == "请组织夜间巡查"
    kinds = [e.kind for e in case.events]
    assert kinds == ["created", "dispatched"]
    assert case.events[0].data == {"channel": "proactive", "hotspot": noisy.id}

    with pytest.raises(Conflict, match=case.number):  # already assigned, as that ticket
        hotspots.assign(city.admin, noisy, "water")
    # The next run does not count the proactive case as one more call.
    hotspots.detect("week", now + timedelta(minutes=5))
    db.session.expire_all()
    assert db.session.get(Hotspot, noisy.id).ticket_count == 5


def test_a_proactive_case_names_no_confidential_member_nor_its_address(city) -> None:
    """Issue 14: the case goes to a department, who may see none of the hotspot's tickets; a
    confidential report among them lends it neither its number nor its address."""
    now = utcnow()
    made = log(city, NOISE[:2], "east", at=now, address="幸福小区东门")
    secrets = []  # the most of them: their address would be the case's otherwise
    for i, text in enumerate(NOISE[2:]):
        secret = factories.make_ticket(
            city.operator, description=text, district="east", confidential=True, address="幸福小区3号楼2单元"
        )
        secret.created_at = now - timedelta(minutes=i + 1)  # the newest: the first examples otherwise
        secrets.append(secret)
    db.session.commit()
    hotspots.detect("week", now)
    (noisy,) = active("week")
    assert {t.id for t in made + secrets} == members(noisy)  # counted: the hotspot is real either way
    case = hotspots.assign(city.supervisor, noisy, "roads")
    assert case.address == "幸福小区东门"
    assert all(secret.number not in case.description for secret in secrets)
    assert made[0].number in case.description


def test_assign_refuses_bad_input_without_creating_anything(city) -> None:
    now = utcnow()
    log(city, NOISE[:3], "east", at=now)
    hotspots.detect("day", now)
    (noisy,) = active("day")
    before = db.session.scalar(select(func.count()).select_from(Ticket))
    for department, note, field in (("nope", "", "department"), ("", "", "department"), ("roads", "x" * 3000, "note")):
        with pytest.raises(InvalidInput) as refused:
            hotspots.assign(city.supervisor, noisy, department, note)
        assert refused.value.field == field
    with pytest.raises(InvalidInput) as refused:
        hotspots.name(city.supervisor, noisy, "名" * 101)
    assert refused.value.field == "name"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == before
    assert db.session.get(Hotspot, noisy.id).status == HotspotStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "dispatched")) == 0


def test_dismiss_and_reopen(city) -> None:
    now = utcnow()
    log(city, NOISE[:3], "east", at=now)
    hotspots.detect("day", now)
    (noisy,) = active("day")
    hotspots.dismiss(city.supervisor, noisy)
    with pytest.raises(Conflict):
        hotspots.assign(city.supervisor, noisy, "roads")
    hotspots.reopen(city.supervisor, noisy)
    with pytest.raises(Conflict):
        hotspots.reopen(city.supervisor, noisy)
    assert noisy.status == HotspotStatus.OPEN


@pytest.mark.parametrize("role", ["operator", "dispatcher", "roads_staff"])
def test_only_supervisors_and_administrators_may_see_and_act(city, role) -> None:
    now = utcnow()
    log(city, NOISE[:3], "east", at=now)
    hotspots.detect("day", now)
    (noisy,) = active("day")
    user = getattr(city, role)
    for action in (
        lambda: hotspots.top(user, "day"),
        lambda: hotspots.get(user, noisy.id),
        lambda: hotspots.name(user, noisy, "x"),
        lambda: hotspots.follow(user, noisy),
        lambda: hotspots.dismiss(user, noisy),
        lambda: hotspots.assign(user, noisy, "roads"),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert hotspots.get(city.admin, noisy.id) == noisy
    with pytest.raises(NotFound):
        hotspots.get(city.admin, noisy.id + 1000)
    with pytest.raises(InvalidInput) as refused:
        hotspots.top(city.admin, "year")
    assert refused.value.field == "window"


def test_an_empty_window_finds_nothing(city) -> None:
    result = hotspots.detect("month", utcnow())
    assert (result.tickets, result.hotspots) == (0, 0)


def test_splitting_a_large_block_into_partitions_finds_the_same_groups() -> None:
    """Past `partition` tickets, a block is split by k-means before the pairwise comparison,
    and groups split across partitions are joined again: the same groups as comparing all."""
    texts = [f"{NOISE[i % len(NOISE)]} 第{i}次" for i in range(60)]
    texts += [f"{LAMPS[i % len(LAMPS)]} 第{i}次" for i in range(45)]
    texts += UNRELATED

    def groups(partition: int) -> set[frozenset[int]]:
        params = hotspot_clustering.Params(partition=partition)
        return {frozenset(g.members) for g in hotspot_clustering.find_groups(texts, [1] * len(texts), params).groups}

    split, whole = groups(20), groups(2_000)
    assert split == whole
    assert sum(len(g) for g in whole) == 105  # every complaint is in a group, no unrelated text is
    assert all(max(g) < 60 or min(g) >= 60 for g in whole)  # noise and lamps never mixed


TEDDYCUP = Path(__file__).resolve().parents[3] / "shared" / "data" / "teddycup2020c" / "messages.csv"


def test_teddycup_messages_group_into_hotspots_each_of_one_category(city) -> None:
    """The Teddy Cup messages (real citizen messages with the category the city routed them
    to), logged as tickets: each hotspot found is mostly one first-level category."""
    if not TEDDYCUP.exists():
        pytest.skip(f"the shared data is absent: {TEDDYCUP} (see ../shared/data/README.md)")
    with TEDDYCUP.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    categories = {name: factories.make_category(name=name) for name in sorted({r["一级分类"] for r in rows})}
    now = utcnow()
    # Straight rows rather than intake: 495 routing jobs and texts would only slow the test.
    db.session.add_all(
        Ticket(
            number=f"TC-{i:04d}",
            type="complaint",
            category=categories[row["一级分类"]],
            description=f"{row['留言主题']}\n{row['留言详情']}",
            caller_phone="",
            created_at=now - timedelta(hours=20) + timedelta(seconds=i),
        )
        for i, row in enumerate(rows)
    )
    db.session.commit()
    # Long written messages resemble each other less than short calls: a lower threshold.
    params = hotspot_clustering.Params(similarity=0.3, merge=0.3, assign=0.27, min_size=3)
    result = hotspots.detect("month", now + timedelta(days=1), params)

    assert result.tickets == len(rows)
    found = active("month")
    assert len(found) >= 3
    shares = []
    for hotspot in found:
        counts = Counter(
            db.session.scalars(
                select(Ticket.category_id)
                .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
                .where(HotspotTicket.hotspot_id == hotspot.id)
            )
        )
        shares.append(max(counts.values()) / hotspot.ticket_count)
    # Seven categories: a random group of three would be one category about 1 time in 12.
    assert sum(shares) / len(shares) >= 0.8, shares
    assert sum(share == 1.0 for share in shares) >= len(shares) / 2, shares


# A streetlight complaint that also tells of a fall and of the property manager: in a day of
# streetlights it is one of them; in a week that also holds falls and property managers, it
# resembled that week's group about those more (issue 16: 5 in 24 h, 4 in 7 days).
LAMPS_AND_A_FALL = [*LAMPS, "和平路路灯不亮，小孩放学回家摔倒受伤，物业推诿说不归他们管。"]
FALLS = [
    "小孩放学回家路上被电动车撞倒受伤。",
    "物业推诿说不归他们管，电梯坏了一个月。",
    "小区物业乱收费，推诿责任。",
    "放学时段学校门口拥堵，小孩过马路危险。",
    "摔倒受伤的老人没人管，物业推诿。",
]


def test_a_longer_window_counts_at_least_what_a_shorter_one_inside_it_does(city) -> None:
    now = utcnow()
    log(city, LAMPS_AND_A_FALL, "west", category="infrastructure", at=now)
    log(city, UNRELATED, "west", at=now)
    log(city, FALLS, "west", at=now - timedelta(days=3))

    hotspots.detect("day", now)
    hotspots.detect("week", now + timedelta(minutes=1))  # the job runs day, week, month in turn
    hotspots.detect("month", now + timedelta(minutes=2))

    (lamps,) = [h for h in active("day") if "路灯" in h.label]
    assert lamps.ticket_count == 5
    for shorter, longer in (("day", "week"), ("day", "month"), ("week", "month")):
        for inner in active(shorter):
            around = [h for h in active(longer) if h.district_id == inner.district_id and members(inner) <= members(h)]
            assert around, (shorter, inner.label, [(h.label, h.ticket_count) for h in active(longer)])
            assert max(h.ticket_count for h in around) >= inner.ticket_count


def test_a_shorter_windows_hotspot_the_longer_one_missed_is_kept_there(city) -> None:
    """Found in the day, but not in the month (a month grouped those tickets otherwise): the
    month keeps it as a hotspot of its own, counted and with the window before counted."""
    now = utcnow()
    lamps = log(city, LAMPS, "west", category="infrastructure", at=now)
    hotspots.detect("day", now)
    (day,) = active("day")
    # The month's own grouping finds nothing (a minimum size no group reaches).
    params = hotspot_clustering.Params(min_size=50)
    hotspots.detect("month", now + timedelta(minutes=1), params)
    (month,) = active("month")
    assert members(month) == {t.id for t in lamps} and month.label == day.label
    assert month.ticket_count == 4 and month.previous_count == 0


# As the demo city's texts read: the district's name, and words any message holds.
NAMED_NOISE = [f"东城区关于{text}请尽快办理。" for text in NOISE]
NAMED_LAMPS = [f"西城区村民为了{text}已经报告过了。" for text in LAMPS]
NAMED_OTHERS = [f"{place}关于{text}请办理。" for place, text in zip(["东城区", "西城区"] * 3, UNRELATED, strict=True)]


def test_a_hotspot_is_named_by_the_words_that_set_it_apart(city) -> None:
    now = utcnow()
    log(city, NAMED_NOISE, "east", at=now)
    log(city, NAMED_LAMPS, "west", category="infrastructure", at=now)
    log(city, NAMED_OTHERS[0::2], "east", at=now)
    log(city, NAMED_OTHERS[1::2], "west", at=now)

    hotspots.detect("week", now)

    found = {h.district.code: h for h in active("week")}
    assert set(found) == {"east", "west"}, [(h.label, h.ticket_count) for h in active("week")]
    for hotspot in found.values():
        words = hotspot.label.split()
        assert len(words) == 4, hotspot.label
        # Neither the place's name nor a word any message holds.
        for word in ("东城区", "东城", "西城区", "西城", "关于", "办理", "村民", "为了", "报告", "已经"):
            assert word not in words, hotspot.label
    assert set(found["east"].label.split()) <= {"噪音", "扰民", "施工", "打桩", "工地", "夜间", "幸福", "小区"}
    assert set(found["west"].label.split()) <= {"路灯", "不亮", "和平路", "晚上", "很黑", "夜里"}


def test_teddycup_hotspots_are_named_by_words_of_their_category(city) -> None:
    """On the Teddy Cup messages (real messages, with the category the city routed each to): each
    hotspot's name words are words of its messages' category, each at least twice as common in
    that category's messages as in the others' (counted here, on the raw texts), and none is a
    stop word, a generic word or a place's code."""
    if not TEDDYCUP.exists():
        pytest.skip(f"the shared data is absent: {TEDDYCUP} (see ../shared/data/README.md)")
    with TEDDYCUP.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    categories = {name: factories.make_category(name=name) for name in sorted({r["一级分类"] for r in rows})}
    names = {category.id: name for name, category in categories.items()}
    now = utcnow()
    texts = [f"{row['留言主题']}\n{row['留言详情']}" for row in rows]
    db.session.add_all(
        Ticket(
            number=f"TC-{i:04d}",
            type="complaint",
            category=categories[row["一级分类"]],
            description=text,
            caller_phone="",
            created_at=now - timedelta(hours=20) + timedelta(seconds=i),
        )
        for i, (row, text) in enumerate(zip(rows, texts, strict=True))
    )
    db.session.commit()
    params = hotspot_clustering.Params(similarity=0.3, merge=0.3, assign=0.27, min_size=3)
    hotspots.detect("month", now + timedelta(days=1), params)
    found = active("month")
    assert len(found) >= 3

    def share(word: str, category: str, inside: bool) -> float:
        chosen = [t.lower() for t, r in zip(texts, rows, strict=True) if (r["一级分类"] == category) == inside]
        return sum(word in t for t in chosen) / len(chosen)

    for hotspot in found:
        counts = Counter(
            db.session.scalars(
                select(Ticket.category_id)
                .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
                .where(HotspotTicket.hotspot_id == hotspot.id)
            )
        )
        category = names[counts.most_common(1)[0][0]]
        words = hotspot.label.split()
        assert words, hotspot.id
        for word in words:
            assert not hotspot_clustering.left_out(word), (hotspot.label, word)
            inside, outside = share(word, category, True), share(word, category, False)
            assert inside >= 2 * outside and inside > 0, (hotspot.label, category, word, inside, outside)


def test_tickets_alike_only_in_their_place_make_no_hotspot(city) -> None:
    """In the demo city four unrelated tickets of 临港区 (cut 临 / 港区) on 人民路 made a hotspot
    named "港区 人民 证明 参加": the place's own name is no problem."""
    factories.make_district("lingang", "临港区")
    texts = [  # the demo's, with the addresses it gave them
        ("关于新农合医保不合理的追问。原文：临港区民与本市民在医保上的不同待遇619 楼 本人在最近喜添千金，"
         "加之遇上了临港区农村产妇生育全报销的好政策，更是感到高兴。", "临港区人民路260号"),
        ("报名参加的一日游被导游带去购物店强制消费，请文旅部门查处旅行社。", "临港区和平路171号"),
        ("本市在水一方大厦人为烂尾多年，安全隐患严重。位于书院路主干道的在水一方大厦一楼至四楼人为拆除水、电等设施后，"
         "烂尾多年，用护栏围着，不但占用人行道路，而且护栏锈迹斑斑，随时可能倒塌，危机过往行人和车辆安全。", "临港区人民路87号"),
        ("临港区农产品市场有无检验检疫证明啊？投诉了沙子岭往本市大学方向，农产品市场有无任何检验检疫证明，屠杀狗狗的情况，"
         "之前拨打热线反映，每次都是回复会交给有关部门处理，但是一直没有回复。", "临港区光明路170号"),
    ]  # fmt: skip
    now = utcnow()
    for i, (text, address) in enumerate(texts):
        log(city, [text], "lingang", at=now - timedelta(minutes=i), address=address)
    # The rest of the week, elsewhere: what makes a word common or rare.
    log(city, NOISE + UNRELATED + WATER, "east", at=now)
    log(city, LAMPS + NAMED_OTHERS, "west", at=now)

    hotspots.detect("week", now)

    assert not [h for h in active("week") if h.district_id is not None and h.district.code == "lingang"]
