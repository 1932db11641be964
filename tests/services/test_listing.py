"""The bounded counts and the prefix ranges behind the lists that grow with the years."""

from __future__ import annotations

from sqlalchemy import event, select, text

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
    # Ordered (down the index that orders a page): the same counts.
    for limit, expected in ((10, 5), (5, 5), (3, 4)):
        assert listing.counted_up_to(query, limit, ordered=True) == expected


def test_an_ordered_count_walks_the_order_and_an_unordered_one_does_not(city):
    """What the database is asked: the ORDER BY stays only when asked for (`ordered`)."""
    seen: list[str] = []
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        listing.counted_up_to(query, 3)
        listing.counted_up_to(query, 3, ordered=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "ORDER BY" not in seen[0].upper() and "ORDER BY" in seen[1].upper()


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
