"""Likely duplicates and merging (重复件)."""

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.services.reporting import reports
from hotline.services.ticketing import merging, tickets
from tests import factories


def test_likely_duplicates_by_phone_place_and_text(city):
    first = factories.make_ticket(city.operator)
    same_phone = factories.make_ticket(city.operator, category="water-supply", description="家里停水了")
    same_place = factories.make_ticket(
        city.operator, caller_phone="13900139000", description="路上有坑", address="东城区人民路12号"
    )
    similar = factories.make_ticket(
        city.operator, caller_phone="13700137000", category="other", description="人民路路面有一个大坑，晚上很危险！"
    )
    unrelated = factories.make_ticket(
        city.operator, caller_phone="13600136000", category="water-supply", description="水费问题"
    )
    found = merging.find_duplicates(
        city.dispatcher, "+8613800138000", city.potholes, "东城区人民路 12 号", first.description, exclude_id=first.id
    )
    by_ticket = {likely.ticket: likely.reasons for likely in found}
    assert same_phone not in by_ticket  # the same caller about another matter: history, not a duplicate
    assert by_ticket[same_place] == ["same_place"]
    assert unrelated not in by_ticket and first not in by_ticket
    # the very similar text is in another category, so it is found from its own category only
    found = merging.find_duplicates(city.dispatcher, None, city.other, "", first.description)
    assert [(x.ticket, x.reasons) for x in found] == [(similar, ["similar_text"])]


def test_the_same_caller_is_a_further_reason_only_for_the_same_matter(city):
    streetlight = "人民路12号门口路灯不亮已经三天，晚上很黑。"
    tourism = factories.make_ticket(city.operator, category="other", description="投诉旅行社强制购物")
    exam = factories.make_ticket(city.operator, category="other", description="咨询考试报名时间")
    again = factories.make_ticket(city.operator, description="人民路12号门口路灯不亮三天了，晚上很黑")
    found = merging.find_duplicates(city.operator, "+8613800138000", city.potholes, "东城区人民路 12 号", streetlight)
    assert [(likely.ticket, likely.reasons) for likely in found] == [
        (again, ["same_phone", "same_place", "similar_text"])
    ]
    assert tourism not in [likely.ticket for likely in found] and exam.status == Status.NEW


def test_duplicates_of_several_matters_at_once_are_each_matters_own(city, monkeypatch):
    """The dispatch desk weighs all its rows together (find_duplicates_of): each row gets what it
    would alone, from its own newest candidates (CANDIDATE_LIMIT, here 2), its own ticket left out."""
    monkeypatch.setattr(merging, "CANDIDATE_LIMIT", 2)
    text = "人民路12号门口路灯不亮已经三天，晚上很黑。"
    old = factories.make_ticket(city.operator, caller_phone="13900139001", description=text, address="西城区")
    newer = [
        factories.make_ticket(
            city.operator, caller_phone=f"1370013700{i}", description=f"咨询第{i}件事", address="北区"
        )
        for i in range(2)
    ]
    matters = [
        # its category's two newest are the unrelated ones: the similar old ticket is past the limit
        merging.Matter(None, city.potholes.id, "南区", text),
        # the same, its own ticket (the newest) left out: the old one is within the limit again
        merging.Matter(None, city.potholes.id, "南区", text, exclude_id=newer[1].id),
        # by the caller's number, from another category
        merging.Matter(old.caller_phone, city.other.id, "南区", text),
    ]
    together = merging.find_duplicates_of(city.dispatcher, matters, limit=5)
    alone = [merging.find_duplicates_of(city.dispatcher, [matter], limit=5)[0] for matter in matters]
    found = [[(likely.ticket, likely.reasons) for likely in likely_ones] for likely_ones in together]
    assert found == [[(likely.ticket, likely.reasons) for likely in likely_ones] for likely_ones in alone]
    assert found == [[], [(old, ["similar_text"])], [(old, ["same_phone", "similar_text"])]]
    single = merging.find_duplicates(city.dispatcher, old.caller_phone, city.other, "南区", text, limit=5)
    assert [(likely.ticket, likely.reasons) for likely in single] == found[2]


def test_closed_tickets_are_not_duplicates(city):
    closed = factories.make_ticket(city.operator, type="consultation", direct_answer="已解答")
    assert closed.status == Status.CLOSED
    assert merging.find_duplicates(city.dispatcher, "+8613800138000", None, "", "") == []


def test_merging_makes_one_parent_and_counts_once(city):
    parent = factories.make_routed_ticket(city.operator)
    child = factories.make_routed_ticket(city.operator, caller_phone="13900139000")
    grandchild = factories.make_ticket(city.operator, caller_phone="13700137000")
    merging.merge_into(city.dispatcher, grandchild, child.number)
    merging.merge_into(city.dispatcher, child, parent.number, expected_version=child.version)
    assert child.status == Status.MERGED and child.parent == parent
    assert child.resolve_due_at is None
    assert grandchild.parent == parent  # handed on
    assert merging.children(city.dispatcher, parent) == [child, grandchild]
    assert parent.events[-1].kind == "merge_received"
    rows = reports.response_times(parent.created_at.date(), parent.created_at.date(), "UTC")
    assert rows[0].tickets == 1


@pytest.mark.parametrize("into", ["", "20990101-000001"])
def test_merging_needs_an_existing_other_ticket(city, into):
    ticket = factories.make_ticket(city.operator)
    with pytest.raises((InvalidInput, NotFound)):
        merging.merge_into(city.dispatcher, ticket, into)
    with pytest.raises(InvalidInput):
        merging.merge_into(city.dispatcher, ticket, ticket.number)
    assert ticket.status == Status.NEW


def test_merging_rules(city):
    parent = factories.make_ticket(city.operator)
    child = factories.make_ticket(city.operator)
    with pytest.raises(PermissionDenied):
        merging.merge_into(city.roads_staff, child, parent.number)
    tickets.route(parent.id)
    tickets.accept(city.roads_staff, parent)
    tickets.resolve(city.roads_staff, parent, "done")
    parent.status = Status.CLOSED
    db.session.commit()
    with pytest.raises(Conflict):
        merging.merge_into(city.dispatcher, child, parent.number)
