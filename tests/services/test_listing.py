"""The bounded counts and the prefix ranges behind the lists that grow with the years."""

from __future__ import annotations

from sqlalchemy import select, text

from hotline.extensions import db
from hotline.models import Ticket
from hotline.services.platform import listing
from tests import factories


def test_counted_up_to_stops_one_past_the_limit(city):
    for _ in range(5):
        factories.make_routed_ticket(city.operator)
    query = select(Ticket).order_by(Ticket.created_at.desc())
    assert listing.counted_up_to(query, 10) == 5
    assert listing.counted_up_to(query, 5) == 5
    assert listing.counted_up_to(query, 3) == 4  # "more than 3"
    assert listing.counted_up_to(query.where(Ticket.status == "closed"), 3) == 0


def test_count_limit_reaches_past_the_cap_for_a_far_page():
    assert listing.count_limit(1, 50) == listing.COUNT_CAP
    assert listing.count_limit(1000, 50) == 50_000


def _plan(statement) -> str:
    connection = db.session.connection()
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask what it could use
        return "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
    return "\n".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_starts_with_is_a_range_down_the_number_index(city):
    made = [factories.make_routed_ticket(city.operator).number for _ in range(3)]
    prefix = made[0][:9]
    clause = listing.starts_with(Ticket.number, prefix)
    assert sorted(db.session.scalars(select(Ticket.number).where(clause))) == sorted(made)
    assert list(db.session.scalars(select(Ticket.number).where(listing.starts_with(Ticket.number, made[2])))) == [
        made[2]
    ]
    plan = _plan(select(Ticket.id).where(clause))
    if db.session.get_bind().dialect.name == "postgresql":
        assert "ix_ticket_number_pattern" in plan  # the pattern operators' index (migration f16b00000160)
    else:
        assert "number>? AND number<?" in plan  # SQLite's unique index on number, as a range
    db.session.rollback()
