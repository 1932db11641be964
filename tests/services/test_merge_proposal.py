"""Which of two duplicates to keep: the one a department is working, else the older one."""

from __future__ import annotations

from datetime import timedelta

from hotline.extensions import db
from hotline.services.ticketing import merge_proposal, tickets
from tests import factories


def test_the_older_is_kept_when_neither_is_worked(city):
    older = factories.make_routed_ticket(city.operator, category="other")
    newer = factories.make_routed_ticket(city.operator, category="other")
    older.created_at = newer.created_at - timedelta(hours=3)
    db.session.commit()
    for a, b in ((older, newer), (newer, older)):
        proposal = merge_proposal.propose(a, b)
        assert (proposal.keep, proposal.merge, proposal.why) == (older, newer, merge_proposal.OLDER)


def test_the_one_a_department_works_is_kept_even_if_newer(city):
    older = factories.make_routed_ticket(city.operator, category="other")  # at the desk
    worked = factories.make_routed_ticket(city.operator)  # with roads
    older.created_at = worked.created_at - timedelta(days=1)
    db.session.commit()
    proposal = merge_proposal.propose(older, worked)
    assert (proposal.keep, proposal.why) == (worked, merge_proposal.WORKED)
    # Signed for beats only dispatched.
    accepted = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, accepted)
    assert merge_proposal.propose(worked, accepted).keep == accepted
    assert merge_proposal.propose(accepted, worked).keep == accepted


def test_the_proposed_parent_is_the_first_duplicate_to_keep(city):
    desk = factories.make_routed_ticket(city.operator, category="other")
    newer = factories.make_routed_ticket(city.operator, category="other")
    worked = factories.make_routed_ticket(city.operator)
    assert merge_proposal.proposed_parent(desk, [newer]) is None  # the desk ticket is older: keep it
    found = merge_proposal.proposed_parent(desk, [newer, worked])
    assert (found.keep, found.merge) == (worked, desk)
