"""The dispatch desk at scale (issue 16, item 8): its rows cost no query each (the likely
duplicates of all of them are looked up at once; the department choices, categories and
districts are read once for all), and the duplicates are weighed without loading every
candidate whole."""

from __future__ import annotations

from sqlalchemy import event

from hotline.extensions import db
from tests import factories


def _statements(client) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/dispatch").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def _waiting(city, n: int, start: int) -> None:
    for i in range(start, start + n):
        factories.make_routed_ticket(
            city.operator,
            category="other",
            caller_phone=f"1390000{i:04d}",
            address=f"第{i}大街{i}号",
            description=f"第{i}件事：编号{i * 7919}的设施需要查看",
        )


def test_the_desk_reads_no_statement_per_row(login, city):
    client = login(city.dispatcher)
    _waiting(city, 2, 0)
    two = _statements(client)
    _waiting(city, 4, 2)
    six = _statements(client)
    assert six == two  # four more rows, the same statements: the duplicates of all rows at once
