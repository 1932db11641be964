"""Full-text search: text preparation (pure), Chinese and English matching, ranking, filters,
rights, and the index kept in step with every change to a ticket, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from hotline.extensions import db
from hotline.models import Status, Ticket, TicketSearch
from hotline.services.errors import InvalidInput
from hotline.services.search import search_index, ticket_search
from hotline.services.search.search_index import parse_query, prepare, snippet, tokens
from hotline.services.search.ticket_search import Filters, filters_from, search
from hotline.services.ticketing import assists, derived, merging, tickets
from tests import factories

# --- text preparation ------------------------------------------------------------------------


def test_chinese_is_written_as_overlapping_pairs():
    assert tokens("噪音扰民") == ["噪音", "音扰", "扰民"]
    assert tokens("停水") == ["停水"]
    assert tokens("水") == ["水"]  # a lone character stands for itself


def test_english_words_are_case_folded_and_split_on_punctuation():
    assert tokens("Street-light BROKEN, since Monday!") == ["street", "light", "broken", "since", "monday"]


def test_mixed_text_splits_chinese_from_latin_and_digits():
    assert tokens("3号楼A座电梯坏了，WiFi也断") == ["3", "号楼", "a", "座电", "电梯", "梯坏", "坏了", "wifi", "也断"]


def test_full_width_letters_and_digits_are_the_ascii_ones():
    assert tokens("ＡＢＣ１２３号") == ["abc123", "号"]
    assert prepare("Ｗｉ－Ｆｉ", None, "") == "wi fi"


def test_a_query_groups_each_run_as_a_phrase():
    query = parse_query("停车场  noise 噪音")
    assert query.groups == (("停车", "车场"), ("noise",), ("噪音",))
    assert query.fts5() == '"停车 车场" AND "noise" AND "噪音"'
    assert query.tsquery() == "'停车' & '车场' & 'noise' & '噪音'"  # adjacency is checked on the documents
    assert query.matches("小区 停车 车场 噪音 noise") and not query.matches("停车 位 车场 噪音 noise")


def test_a_lone_chinese_character_is_left_out_beside_longer_words():
    assert parse_query("水 停电").groups == (("停电",),)


@pytest.mark.parametrize("raw", ["", "   ", "水", "a", "！？", "x" * 201])
def test_empty_or_too_short_or_too_long_queries_are_refused(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_query(raw)
    assert refused.value.field == "q"


def test_quotes_and_operators_in_a_query_are_only_separators():
    query = parse_query('"noise" OR NEAR(噪音) *')
    assert query.groups == (("noise",), ("or",), ("near",), ("噪音",))


def test_a_snippet_marks_the_terms_in_the_original_text():
    query = parse_query("噪音 ABC")
    marked = snippet("楼下ａｂｃ酒吧<深夜>噪音很大", query)
    assert str(marked) == "楼下<mark>ａｂｃ</mark>酒吧&lt;深夜&gt;<mark>噪音</mark>很大"
    assert snippet("完全无关", query) is None


def test_a_long_text_is_cut_around_the_first_match():
    query = parse_query("路灯")
    marked = snippet("前" * 200 + "路灯不亮" + "后" * 200, query, width=40)
    assert "<mark>路灯</mark>" in marked
    assert marked.startswith("…") and marked.endswith("…")
    assert len(marked.striptags()) < 50


# --- searching ----------------------------------------------------------------------------------


def numbers(results) -> list[str]:
    return [hit.ticket.number for hit in results.hits]


def found(actor, query, **filters) -> set[str]:
    return set(numbers(search(actor, query, Filters(**filters), per_page=100)))


@pytest.fixture(params=["as tuned", "through the index"])
def paths(request, monkeypatch):
    """Every search test runs twice: as tuned (here, with few tickets, filtered searches read
    the few passing documents, and PostgreSQL walks all of them as its newest), and forced
    through the index (FTS5 or GIN, the walk of the newest stopping after one document)."""
    if request.param == "through the index":
        monkeypatch.setattr(ticket_search, "SELECTIVE", 0)
        monkeypatch.setattr(search_index, "RECENT", 1)
    return request.param


@pytest.fixture
def make(city, paths):
    def _make(description: str, **overrides) -> Ticket:
        return factories.make_ticket(city.operator, description=description, **overrides)

    return _make


def test_chinese_two_and_three_character_words(city, make):
    noise = make("楼下烧烤店深夜噪音扰民，影响休息。")
    water = make("小区今天停水，没有通知。", category="water-supply")
    parking = make("小区停车场乱收费。")
    assert found(city.supervisor, "噪音") == {noise.number}
    assert found(city.supervisor, "停水") == {water.number}
    assert found(city.supervisor, "停车场") == {parking.number}
    assert found(city.supervisor, "小区") == {water.number, parking.number}
    assert found(city.supervisor, "扰民 烧烤") == {noise.number}  # every word must appear
    assert found(city.supervisor, "噪音 停水") == set()


def test_a_longer_word_must_appear_whole_not_its_pairs_apart(city, make):
    apart = make("停车位不足，车场管理混乱。")  # 停车 and 车场, but not 停车场
    whole = make("停车场出口拥堵。")
    assert found(city.supervisor, "停车场") == {whole.number}
    assert apart.number in found(city.supervisor, "停车 车场")


def test_english_words_and_mixed_text(city, make):
    light = make("The streetlight on Elm Road is BROKEN.")
    lift = make("3号楼电梯坏了, lift out of order")
    assert found(city.supervisor, "streetlight") == {light.number}
    assert found(city.supervisor, "broken elm") == {light.number}
    assert found(city.supervisor, "LIFT 电梯") == {lift.number}
    assert found(city.supervisor, "３号楼") == {lift.number}  # full width typed
    assert found(city.supervisor, "street") == set()  # whole words, not parts of them


def test_the_address_is_searched_too(city, make):
    ticket = make("路面破损。", address="西城区幸福路 88 号")
    assert found(city.supervisor, "幸福路") == {ticket.number}


def test_more_relevant_tickets_come_first(city, make):
    once = make("小区门口有一些垃圾，另外路灯不亮，绿化带缺少修剪，希望处理。")
    often = make("噪音！噪音！楼上装修噪音从早到晚，噪音太大。")
    middle = make("晚上噪音很大，无法入睡。")
    results = search(city.supervisor, "噪音")
    assert numbers(results)[0] == often.number
    assert once.number not in numbers(results)
    assert set(numbers(results)) == {often.number, middle.number}
    assert results.hits[0].score > results.hits[1].score


def test_results_are_paged(city, make):
    made = [make(f"路灯不亮 第{i}处") for i in range(5)]
    first = search(city.supervisor, "路灯", per_page=2)
    third = search(city.supervisor, "路灯", page=3, per_page=2)
    assert (first.total, first.pages, len(first.hits), len(third.hits)) == (5, 3, 2, 1)
    every = numbers(first) + numbers(search(city.supervisor, "路灯", page=2, per_page=2)) + numbers(third)
    assert sorted(every) == sorted(t.number for t in made)


def test_each_hit_has_a_marked_snippet(city, make):
    make("请尽快处理：楼下噪音扰民。")
    hit = search(city.supervisor, "噪音").hits[0]
    assert "<mark>噪音</mark>" in hit.snippet


# --- filters --------------------------------------------------------------------------------------


def test_status_and_department_filters(city, make):
    routed = tickets.route(make("路灯不亮").id)  # potholes -> roads, dispatched
    water = tickets.route(make("路灯旁水管漏水", category="water-supply").id)
    fresh = make("路灯杆倾斜")  # not routed: new
    assert found(city.supervisor, "路灯", statuses=[Status.NEW]) == {fresh.number}
    assert found(city.supervisor, "路灯", statuses=[Status.DISPATCHED, Status.NEW]) == {
        routed.number,
        water.number,
        fresh.number,
    }
    assert found(city.supervisor, "路灯", department_id=city.water.id) == {water.number}


def test_category_filter_includes_subcategories(city, make):
    child = make("路灯不亮", category="potholes")
    parent = make("路灯倒了", category="infrastructure")
    other = make("路灯旁漏水", category="water-supply")
    assert found(city.supervisor, "路灯", category_id=city.infrastructure.id) == {child.number, parent.number}
    assert found(city.supervisor, "路灯", category_id=city.potholes.id) == {child.number}
    assert other.number in found(city.supervisor, "路灯")


def test_district_and_date_filters(city, make):
    east = make("路灯不亮", district="east")
    west = make("路灯闪烁", district="west")
    db.session.execute(
        text("UPDATE ticket SET created_at = :at WHERE id = :id"), {"at": datetime(2026, 1, 10, 2, 0), "id": west.id}
    )
    db.session.commit()
    assert found(city.supervisor, "路灯", district_id=city.east.id) == {east.number}
    january = filters_from(created_from="2026-01-10", created_to="2026-01-10")
    assert set(numbers(search(city.supervisor, "路灯", january))) == {west.number}
    since = filters_from(created_from="2026-01-11")
    assert set(numbers(search(city.supervisor, "路灯", since))) == {east.number}
    backwards = filters_from(created_from="2026-02-01", created_to="2026-01-01")
    assert search(city.supervisor, "路灯", backwards).hits == []


def test_filters_from_codes_and_dates(city):
    filters = filters_from(["new,dispatched"], "infrastructure", "water", "west", "2026-03-01", "2026-03-31")
    assert filters.statuses == ["new", "dispatched"]
    assert (filters.category_id, filters.department_id, filters.district_id) == (
        city.infrastructure.id,
        city.water.id,
        city.west.id,
    )
    # Local days in Asia/Shanghai: the 1st starts at 16:00 UTC the day before.
    assert filters.created_from == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert filters.created_before == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"statuses": ["opened"]}, "status"),
        ({"category": "nope"}, "category"),
        ({"department": "nope"}, "department"),
        ({"district": "nope"}, "district"),
        ({"created_from": "2026-13-01"}, "from"),
        ({"created_to": "yesterday"}, "to"),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(city, arguments, field):
    with pytest.raises(InvalidInput) as refused:
        filters_from(**arguments)
    assert refused.value.field == field


# --- rights ---------------------------------------------------------------------------------------


def test_department_staff_find_their_own_and_assisted_tickets_only(city, make):
    roads = tickets.route(make("路灯不亮").id)
    water = tickets.route(make("路灯旁水管漏水", category="water-supply").id)
    shared = make("路灯和水管都坏了", category="other")  # no department: the dispatcher's
    tickets.route(shared.id)
    tickets.dispatch(city.dispatcher, shared, "water", assisting=["roads"])
    unrouted = make("路灯杆倾斜")
    assert found(city.roads_staff, "路灯") == {roads.number, shared.number}
    assert found(city.water_staff, "路灯") == {water.number, shared.number}
    assert found(city.supervisor, "路灯") == {roads.number, water.number, shared.number, unrouted.number}
    # A filter cannot widen the rights.
    assert found(city.roads_staff, "路灯", department_id=city.water.id) == {shared.number}


def test_confidential_tickets_are_not_for_operators_and_dispatchers(city, make):
    secret = tickets.route(make("举报路灯工程贪污", confidential=True).id)  # with roads
    open_one = make("路灯不亮")
    assert found(city.operator, "路灯") == {open_one.number}
    assert found(city.dispatcher, "路灯") == {open_one.number}
    assert found(city.supervisor, "路灯") == {secret.number, open_one.number}
    assert found(city.admin, "路灯") == {secret.number, open_one.number}
    assert found(city.roads_staff, "路灯") == {secret.number}  # the department holding it
    assert found(city.water_staff, "路灯") == set()


def test_a_confidential_ticket_is_not_found_by_an_assisting_department(city, make):
    secret = make("举报路灯工程贪污", confidential=True, category="other")
    tickets.route(secret.id)
    tickets.dispatch(city.dispatcher, secret, "roads", assisting=["water"])
    assert found(city.roads_staff, "贪污") == {secret.number}
    assert found(city.water_staff, "贪污") == set()


def test_caller_names_and_numbers_are_not_searchable(city, make):
    make("路灯不亮", caller_name="王建国", caller_phone="13912345678")
    assert found(city.supervisor, "建国") == set()
    assert found(city.supervisor, "13912345678") == set()


# --- kept in step -----------------------------------------------------------------------------


def test_a_new_ticket_is_found_at_once(city):
    ticket = factories.make_ticket(city.operator, description="窨井盖缺失")
    assert found(city.supervisor, "窨井盖") == {ticket.number}


def test_an_edited_description_replaces_the_old_words(city, make):
    ticket = make("路灯不亮")
    ticket.description = "窨井盖缺失"
    derived.tickets_changed([ticket])  # what a writer that edits a ticket's words calls
    db.session.commit()
    assert found(city.supervisor, "窨井盖") == {ticket.number}
    assert found(city.supervisor, "路灯") == set()


def test_a_change_that_is_not_about_words_leaves_the_document_alone(city, make):
    ticket = make("路灯不亮")
    before = db.session.get(TicketSearch, ticket.id).document
    ticket.urgency = "urgent"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(TicketSearch, ticket.id).document == before


def test_notes_replies_and_resolutions_are_found(city, make):
    ticket = tickets.route(make("路灯不亮").id)
    tickets.add_note(city.dispatcher, ticket, "市民说 lamp post 已倾斜")
    assert found(city.supervisor, "倾斜") == {ticket.number}
    assert found(city.supervisor, "lamp") == {ticket.number}
    tickets.accept(city.roads_staff, ticket)
    tickets.resolve(city.roads_staff, ticket, "已更换灯泡，恢复照明。")
    assert found(city.supervisor, "灯泡") == {ticket.number}
    assert found(city.roads_staff, "恢复照明") == {ticket.number}


def test_an_assisting_departments_reply_is_found(city, make):
    ticket = make("路灯和水管都坏了", category="other")
    tickets.route(ticket.id)
    tickets.dispatch(city.dispatcher, ticket, "water", assisting=["roads"])
    assists.mark_done(city.roads_staff, ticket, "路灯线路已抢修")
    assert found(city.water_staff, "抢修") == {ticket.number}


def test_a_merged_ticket_is_still_found_as_merged_and_points_at_its_parent(city, make):
    parent = make("人民路路灯不亮")
    child = make("人民路路灯坏了好几天")
    merging.merge_into(city.dispatcher, child, parent.number)
    results = search(city.supervisor, "路灯", per_page=10)
    by_number = {hit.ticket.number: hit.ticket for hit in results.hits}
    assert by_number[child.number].status == Status.MERGED
    assert by_number[child.number].parent.number == parent.number
    assert found(city.supervisor, "好几天", statuses=list(Status.OPEN)) == set()
    assert found(city.supervisor, "好几天", statuses=[Status.MERGED]) == {child.number}


def test_a_deleted_ticket_leaves_the_index(city, make):
    ticket = make("窨井盖缺失")
    ticket_id = ticket.id
    _delete_dependants(ticket_id)
    db.session.delete(ticket)
    db.session.commit()
    assert db.session.get(TicketSearch, ticket_id) is None
    assert found(city.supervisor, "窨井盖") == set()


def _delete_dependants(ticket_id: int) -> None:
    """What refers to a ticket besides its document: its events and its text messages."""
    for table in ("ticket_event", "outbound_message"):
        db.session.execute(text(f"DELETE FROM {table} WHERE ticket_id = :id"), {"id": ticket_id})


def test_reindex_rebuilds_the_same_results(city, make):
    make("楼下噪音扰民")
    ticket = tickets.route(make("路灯不亮").id)
    tickets.add_note(city.dispatcher, ticket, "已催办路灯所")
    make("Streetlight broken", confidential=True)
    queries = ["噪音", "路灯", "催办", "streetlight"]
    before = {q: numbers(search(city.supervisor, q)) for q in queries}
    documents = dict(db.session.execute(select(TicketSearch.id, TicketSearch.document)).all())
    assert ticket_search.reindex(batch=2) == (3, 0)  # nothing to rewrite: already in step
    db.session.execute(TicketSearch.__table__.delete())  # as after a bulk load around the ORM
    db.session.commit()
    assert ticket_search.needs_reindex()
    assert found(city.supervisor, "噪音") == set()
    assert ticket_search.reindex(batch=2) == (3, 3)
    db.session.expire_all()
    assert dict(db.session.execute(select(TicketSearch.id, TicketSearch.document)).all()) == documents
    assert {q: numbers(search(city.supervisor, q)) for q in queries} == before
    assert not ticket_search.needs_reindex()


def test_reindex_drops_the_documents_of_tickets_that_are_gone(city, make):
    ticket = make("窨井盖缺失")
    _delete_dependants(ticket.id)
    # Around the ORM, as a bulk clean-up would (SQLite does not enforce the foreign key).
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ticket_search DROP CONSTRAINT fk_ticket_search_id_ticket"))
    db.session.execute(text("DELETE FROM ticket WHERE id = :id"), {"id": ticket.id})
    db.session.commit()
    try:
        ticket_search.reindex()
        assert db.session.scalar(select(func.count()).select_from(TicketSearch)) == 0
        assert found(city.supervisor, "窨井盖") == set()
    finally:
        if db.session.connection().dialect.name == "postgresql":
            db.session.execute(
                text(
                    "ALTER TABLE ticket_search ADD CONSTRAINT fk_ticket_search_id_ticket FOREIGN KEY (id) "
                    "REFERENCES ticket (id) ON DELETE CASCADE"
                )
            )
            db.session.commit()


def test_only_the_newest_candidates_are_ranked(city, make, monkeypatch):
    monkeypatch.setattr(search_index, "CANDIDATES", 3)
    made = [make(f"路灯不亮 {i}") for i in range(5)]
    results = search(city.supervisor, "路灯", per_page=10)
    assert results.capped and results.total == 3
    assert set(numbers(results)) == {t.number for t in made[-3:]}


def test_the_generic_index_serves_another_kind(city, make):
    """What the knowledge base can reuse: match() on the ticket kind without an owner table."""
    ticket = make("楼道灯不亮")
    matches = search_index.match(db.session.connection(), ticket_search.TICKETS, parse_query("楼道"))
    assert [ticket_id for ticket_id, _score in matches] == [ticket.id]


def test_the_reindex_command(runner, city, make):
    make("楼下噪音扰民")
    db.session.execute(TicketSearch.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["search", "reindex", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 tickets (1 documents written)" in result.output
    assert found(city.supervisor, "噪音") != set()


# --- the fast paths: text preparation in one regex pass, the full reindex, id bounds of dates ---------


def _runs_by_character(value: str) -> list[tuple[bool, str]]:
    """The character loop that `runs` replaced (one regex pass): the reference it must equal."""
    found: list[tuple[bool, str]] = []
    current: list[str] = []
    current_cjk = False
    for char in search_index.normalise(value):
        kind = True if search_index.is_cjk(char) else (False if char.isalnum() else None)
        if current and kind is not current_cjk:
            found.append((current_cjk, "".join(current)))
            current = []
        if kind is not None:
            current.append(char)
            current_cjk = kind
    if current:
        found.append((current_cjk, "".join(current)))
    return found


def test_runs_are_those_of_the_character_loop():
    import random

    rng = random.Random(7)
    # ASCII and Latin-1 (with "_" and symbols), CJK punctuation and kana edges (・, ゛), ideographs,
    # full-width forms, circled digits, hangul, an extension-B ideograph, Arabic-Indic digits.
    pool = [
        chr(c) for c in [*range(0x20, 0x180), *range(0x3000, 0x3100), *range(0x4E00, 0x4E20), *range(0xFF00, 0xFF66)]
    ]
    pool += ["\u2460", "\uac00", "\U00020000", "\u0663", "\u00b2", "\U0001d7d8", "\u30fb", "\u309b"]
    for _ in range(20_000):
        value = "".join(rng.choice(pool) for _ in range(rng.randint(0, 24)))
        assert list(search_index.runs(value)) == _runs_by_character(value), value


def _documents() -> dict[int, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(TicketSearch.id, TicketSearch.document)).all())


def test_a_full_reindex_writes_exactly_the_documents_kept_in_step(city, make):
    """Every kind of worded event, written by the services (the in-step path), then the whole
    index rebuilt from plain rows (the bulk path): the same documents, the same results."""
    from hotline.services.ticketing.transition import record_event

    make("楼下烧烤店深夜噪音扰民，影响休息。")
    routed = tickets.route(make("路灯不亮", address="东城区幸福路 88 号").id)
    tickets.add_note(city.dispatcher, routed, "市民说 lamp post 已倾斜")
    tickets.accept(city.roads_staff, routed)
    tickets.resolve(city.roads_staff, routed, "已更换灯泡，恢复照明。")
    shared = make("路灯和水管都坏了", category="other")
    tickets.route(shared.id)
    tickets.dispatch(city.dispatcher, shared, "water", assisting=["roads"])
    assists.mark_done(city.roads_staff, shared, "路灯线路已抢修")
    messaged = make("Ｗｉ－Ｆｉ 信号差", confidential=True)
    record_event(messaged, None, "citizen_message", None, None, {"text": "还是没有信号 WiFi", "channel": "sms"})
    record_event(messaged, None, "voicemail_transcribed", None, None, {"text": "请回电"})
    record_event(messaged, None, "note", None, None, {"text": None})  # no words: nothing added
    derived.tickets_changed([messaged])  # as the writers of these events do (citizen_sms, calls)
    db.session.commit()
    parent = make("人民路路灯不亮")
    merging.merge_into(city.dispatcher, make("人民路路灯坏了好几天"), parent.number)
    in_step = _documents()
    scopes = _scopes_in_step()  # PostgreSQL: each ticket's departments
    queries = ["噪音", "路灯", "倾斜", "灯泡", "抢修", "wifi", "请回电", "好几天"]
    before = {q: numbers(search(city.supervisor, q)) for q in queries}
    assert ticket_search.reindex(full=True) == (len(in_step), len(in_step))
    assert _documents() == in_step
    assert _scopes() == scopes
    assert {q: numbers(search(city.supervisor, q)) for q in queries} == before


def test_an_empty_index_is_rebuilt_whole_and_stays_in_step_afterwards(city, make):
    make("楼下噪音扰民")
    edited = make("路灯不亮")
    db.session.execute(TicketSearch.__table__.delete())  # as after a bulk load around the ORM
    db.session.commit()
    assert ticket_search.reindex() == (2, 2)  # an empty index: the full path
    assert found(city.supervisor, "噪音") != set()
    # The index is kept in step again (SQLite's triggers, PostgreSQL's GIN index are back).
    fresh = make("窨井盖缺失")
    edited.description = "井盖松动"
    derived.tickets_changed([edited])
    db.session.commit()
    assert found(city.supervisor, "窨井盖") == {fresh.number}
    assert found(city.supervisor, "井盖") == {fresh.number, edited.number}
    assert found(city.supervisor, "路灯") == set()
    if db.session.connection().dialect.name == "postgresql":
        assert db.session.scalar(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_ticket_search_terms'"))
    else:
        triggers = db.session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ticket_search'")
        ).all()
        assert sorted(triggers) == ["ticket_search_ad", "ticket_search_ai", "ticket_search_au"]


def test_the_reindex_command_full_and_incremental(runner, city, make):
    make("楼下噪音扰民")
    result = runner.invoke(args=["search", "reindex", "--quiet", "--full"])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 tickets (1 documents written)" in result.output
    result = runner.invoke(args=["search", "reindex", "--quiet", "--incremental"])
    assert "reindexed 1 tickets (0 documents written)" in result.output
    assert found(city.supervisor, "噪音") != set()


def _created(ticket: Ticket, at: datetime) -> None:
    db.session.execute(text("UPDATE ticket SET created_at = :at WHERE id = :id"), {"at": at, "id": ticket.id})
    db.session.commit()


@pytest.mark.parametrize("span", [ticket_search.ID_BOUNDS_SPAN, 2, 1])
def test_date_filters_find_tickets_whose_ids_do_not_follow_their_dates(city, make, monkeypatch, span):
    """Ids give the date range's bounds to the index walk, but an imported ticket's id can be
    newer than its date (or older): the bounds are the range's extremes, nothing is missed;
    a range wider than ID_BOUNDS_SPAN tickets is walked without bounds."""
    monkeypatch.setattr(ticket_search, "ID_BOUNDS_SPAN", span)
    early_id_late_date = make("路灯不亮 一")
    middle = make("路灯不亮 二")
    late_id_early_date = make("路灯不亮 三")
    outside = make("路灯不亮 四")
    _created(early_id_late_date, datetime(2026, 3, 20, 2, 0))
    _created(middle, datetime(2026, 3, 10, 2, 0))
    _created(late_id_early_date, datetime(2026, 3, 2, 2, 0))
    _created(outside, datetime(2026, 2, 10, 2, 0))
    march = filters_from(created_from="2026-03-01", created_to="2026-03-31")
    expected = {early_id_late_date.number, middle.number, late_id_early_date.number}
    assert set(numbers(search(city.supervisor, "路灯", march, per_page=100))) == expected
    since = filters_from(created_from="2026-03-05")
    assert set(numbers(search(city.supervisor, "路灯", since))) == {early_id_late_date.number, middle.number}
    until = filters_from(created_to="2026-03-05")
    assert set(numbers(search(city.supervisor, "路灯", until))) == {late_id_early_date.number, outside.number}
    nothing = filters_from(created_from="2025-01-01", created_to="2025-01-31")
    assert search(city.supervisor, "路灯", nothing).hits == []


def test_id_bounds_of_a_date_range(city, make):
    first, second = make("一"), make("二")
    _created(first, datetime(2026, 3, 20, 2, 0))
    _created(second, datetime(2026, 3, 2, 2, 0))
    connection = db.session.connection()
    assert ticket_search.id_bounds(connection, Filters()) == (None, None)
    march = filters_from(created_from="2026-03-01", created_to="2026-03-31")
    assert ticket_search.id_bounds(connection, march) == (first.id, second.id)
    assert ticket_search.id_bounds(connection, filters_from(created_from="2027-01-01")) == (1, 0)


def test_id_bounds_of_a_date_range_read_its_own_tickets_only(city, make, monkeypatch):
    """Both dates given: the bounds come from the range's own tickets, however many lie on
    either side of it ("up to today" is every ticket: each edge read alone, that many index
    entries were read at 1,000,000 tickets, 260 ms a search)."""
    monkeypatch.setattr(ticket_search, "ID_BOUNDS_SPAN", 3)
    first, second = make("一"), make("二")
    _created(first, datetime(2026, 3, 20, 2, 0))
    _created(second, datetime(2026, 3, 2, 2, 0))
    for day in (1, 2, 3):  # more tickets after the range than the span: its edge alone says nothing
        _created(make(f"后{day}"), datetime(2026, 4, day, 2, 0))
    _created(make("前"), datetime(2026, 2, 1, 2, 0))
    connection = db.session.connection()
    march = filters_from(created_from="2026-03-01", created_to="2026-03-31")
    assert ticket_search.id_bounds(connection, march) == (first.id, second.id)
    between = filters_from(created_from="2026-03-05", created_to="2026-03-06")  # no ticket in it
    assert ticket_search.id_bounds(connection, between) == (1, 0)


def test_older_matches_are_found_across_id_buckets(city, make, monkeypatch):
    """PostgreSQL walks the index a window of id buckets (ID_BUCKET ids each) at a time, newest
    first: tickets far apart in ids are all found, the newest first when capped."""
    postgresql = db.session.connection().dialect.name == "postgresql"
    made = []
    for start in (None, 140_000, 300_000, 300_001):
        if start is not None and postgresql:
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), :id)"), {"id": start})
            db.session.commit()
        made.append(make(f"路灯不亮 {start}"))
    make("别的事情")
    if postgresql:
        assert made[1].id // search_index.ID_BUCKET == 2 and made[2].id // search_index.ID_BUCKET == 4
    assert found(city.supervisor, "路灯") == {t.number for t in made}
    assert found(city.supervisor, "路灯", statuses=[Status.NEW]) == {t.number for t in made}
    monkeypatch.setattr(search_index, "CANDIDATES", 3)
    assert found(city.supervisor, "路灯") == {t.number for t in made[1:]}


# --- department scopes (PostgreSQL) ---------------------------------------------------------


def _scopes() -> dict[int, str | None]:
    """Each document's stored scopes (PostgreSQL); {} where the database does not use them."""
    db.session.expire_all()
    connection = db.session.connection()
    if not search_index.uses_scopes(connection, ticket_search.TICKETS):
        return {}
    return dict(connection.execute(text("SELECT id, scopes FROM ticket_search")).all())


def _scopes_in_step() -> dict[int, str | None]:
    """The stored scopes, checked against those read afresh from the tickets and their assists."""
    stored = _scopes()
    assert stored == ticket_search.scopes_of(db.session.connection(), list(stored))
    return stored


def _scope(*departments) -> str | None:
    return ticket_search.scope(d.id for d in departments)


def test_scopes_are_the_department_and_the_assisting_ones_by_id():
    assert ticket_search.scope([]) is None
    assert ticket_search.scope([None]) is None
    assert ticket_search.scope([12, None, 3, 12]) == "@d3 @d12"
    # Not a word: no prepared token can hold "@", so no query can match a scope.
    assert "@d3" not in tokens("@d3 d3") and tokens("@d3") == ["d3"]


def test_a_tickets_scopes_follow_its_department_and_assists_on_every_path(city):
    from sqlalchemy import insert, update

    from hotline.models import TicketAssist

    postgresql = db.session.connection().dialect.name == "postgresql"

    def scope_of(ticket: Ticket) -> str | None:
        return _scopes_in_step().get(ticket.id) if postgresql else None

    def expect(ticket: Ticket, *departments) -> None:
        if postgresql:
            assert scope_of(ticket) == _scope(*departments)
        else:
            assert _scopes_in_step() == {}

    ticket = factories.make_ticket(city.operator, description="路灯不亮")  # intake's Core path
    expect(ticket)
    tickets.route(ticket.id)  # routing
    expect(ticket, city.roads)
    tickets.dispatch(city.dispatcher, ticket, "water", assisting=["roads"])  # reassigned, an assist
    expect(ticket, city.water, city.roads)
    tickets.dispatch(city.dispatcher, ticket, "roads")  # reassigned, assists cleared
    expect(ticket, city.roads)
    tickets.return_to_dispatch(city.roads_staff, ticket, "属于供水", reason_code="not_our_remit")
    expect(ticket)  # back with the dispatcher: no department
    # Back to the department that returned it: the desk must say why (ping-pong).
    tickets.dispatch(city.dispatcher, ticket, "roads", assisting=["water"], reason="路面部分归道路管理局")
    expect(ticket, city.roads, city.water)
    # A writer around the actions (by a statement, or the flush) calls `derived` before it commits.
    assists.replace(ticket, [])  # assists removed by a statement
    derived.tickets_changed([ticket], words=False)
    db.session.commit()
    expect(ticket, city.roads)
    db.session.execute(insert(TicketAssist), [{"ticket_id": ticket.id, "department_id": city.water.id}])
    derived.tickets_changed([ticket], words=False)
    db.session.commit()
    expect(ticket, city.roads, city.water)
    helper = db.session.scalar(select(TicketAssist).where(TicketAssist.ticket_id == ticket.id))
    db.session.delete(helper)  # an assist deleted by the flush
    derived.tickets_changed([ticket], words=False)
    db.session.commit()
    expect(ticket, city.roads)
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(department_id=city.water.id))
    derived.tickets_changed([ticket], words=False)
    db.session.commit()
    expect(ticket, city.water)
    ticket = db.session.get(Ticket, ticket.id)
    ticket.department_id = None  # the column itself, through the flush
    derived.tickets_changed([ticket], words=False)
    db.session.commit()
    expect(ticket)
    ticket = db.session.get(Ticket, ticket.id)
    tickets.dispatch(city.dispatcher, ticket, "roads", reason="再派回道路管理局")  # the action again
    expect(ticket, city.roads)
    # A merge keeps the merged ticket's department; both documents stay in step.
    parent = tickets.route(factories.make_ticket(city.operator, description="人民路路灯不亮").id)
    child = tickets.route(factories.make_ticket(city.operator, description="人民路路灯坏了").id)
    merging.merge_into(city.dispatcher, child, parent.number)
    expect(child, city.roads)
    expect(parent, city.roads)
    # A batch of routings (the drain): one flush, every ticket's scopes.
    batch = [factories.make_ticket(city.operator, description=f"路灯不亮 {n}").id for n in range(3)]
    tickets.route_batch(batch)
    for ticket_id in batch:
        expect(db.session.get(Ticket, ticket_id), city.roads)


def test_a_full_reindex_writes_the_scopes_kept_in_step_and_an_incremental_one_mends_them(city, make):
    shared = make("路灯和水管都坏了", category="other")
    tickets.route(shared.id)
    tickets.dispatch(city.dispatcher, shared, "water", assisting=["roads"])
    tickets.route(make("路灯不亮").id)
    make("楼下噪音扰民")  # no department
    in_step = _scopes_in_step()
    assert ticket_search.reindex(full=True) == (3, 3)
    assert _scopes() == in_step
    if db.session.connection().dialect.name != "postgresql":
        return
    assert in_step[shared.id] == _scope(city.water, city.roads)
    db.session.execute(text("UPDATE ticket_search SET scopes = NULL"))
    db.session.commit()
    assert ticket_search.reindex(full=False) == (3, 2)  # the two with a department rewritten
    assert _scopes() == in_step
    assert ticket_search.reindex(full=False) == (3, 0)


def test_the_migration_fills_the_scopes_as_they_are_kept_in_step(city, make):
    import importlib

    if db.session.connection().dialect.name != "postgresql":
        pytest.skip("scopes are PostgreSQL's")
    migration = importlib.import_module("migrations.versions.a7f1c0de0007_search_department_scopes")
    assert migration.SCOPED == search_index.SCOPED
    shared = make("路灯和水管都坏了", category="other")
    tickets.route(shared.id)
    tickets.dispatch(city.dispatcher, shared, "water", assisting=["roads"])
    tickets.route(make("路灯不亮").id)
    make("楼下噪音扰民")
    in_step = _scopes_in_step()
    db.session.execute(text("UPDATE ticket_search SET scopes = NULL"))
    db.session.execute(text(migration.FILL))
    db.session.commit()
    assert _scopes() == in_step


def test_department_staff_search_within_their_scope_and_the_rights_stay_exact(city, make, monkeypatch):
    """Through the index (no few-passing shortcut, no walk of the newest): on PostgreSQL the GIN
    index is asked for the words within the staff's department. A scope only narrows the walk:
    too wide a scope never lets a ticket of another department through."""
    monkeypatch.setattr(ticket_search, "SELECTIVE", 0)
    monkeypatch.setattr(search_index, "RECENT", 1)
    roads = tickets.route(make("路灯不亮").id)
    water = tickets.route(make("路灯旁水管漏水", category="water-supply").id)
    secret = make("举报路灯工程贪污", confidential=True, category="other")
    tickets.route(secret.id)
    tickets.dispatch(city.dispatcher, secret, "water", assisting=["roads"])
    assert found(city.roads_staff, "路灯") == {roads.number}  # the confidential one is water's
    assert found(city.water_staff, "路灯") == {water.number, secret.number}
    if db.session.connection().dialect.name != "postgresql":
        return
    # Every document in every scope: the rights alone decide, the same answers.
    everywhere = _scope(city.roads, city.water)
    db.session.execute(text("UPDATE ticket_search SET scopes = :s"), {"s": everywhere})
    db.session.commit()
    assert found(city.roads_staff, "路灯") == {roads.number}
    assert found(city.water_staff, "路灯") == {water.number, secret.number}
    # The index walk does keep to the scope: a document without it is not reached.
    db.session.execute(text("UPDATE ticket_search SET scopes = NULL WHERE id = :id"), {"id": roads.id})
    db.session.commit()
    assert found(city.roads_staff, "路灯") == set()
    assert found(city.supervisor, "路灯") == {roads.number, water.number, secret.number}


@pytest.mark.parametrize("rest", [0, 10**9], ids=["windows only", "the rest at once"])
def test_department_staff_find_older_matches_across_id_buckets(city, make, monkeypatch, rest):
    """Within a scope, PostgreSQL walks the newest windows, then asks for the rest at once when
    the words are rare there (SCOPED_REST): the same tickets either way, the newest first."""
    monkeypatch.setattr(ticket_search, "SELECTIVE", 0)
    monkeypatch.setattr(search_index, "RECENT", 1)
    monkeypatch.setattr(search_index, "SCOPED_SAMPLE_BUCKETS", 1)
    monkeypatch.setattr(search_index, "SCOPED_REST", rest)
    postgresql = db.session.connection().dialect.name == "postgresql"
    made, others = [], []
    for start in (None, 140_000, 300_000, 400_000):
        if start is not None and postgresql:
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), :id)"), {"id": start})
            db.session.commit()
        made.append(tickets.route(make(f"路灯不亮 {start}").id))  # roads
        others.append(tickets.route(make(f"路灯旁水管漏水 {start}", category="water-supply").id))
    make("别的事情")
    windows: list[range | None] = []
    candidates = search_index._candidates_postgresql

    def spying(kind, query, join, limit, lower, upper, buckets, scopes=()):
        windows.append(buckets)
        return candidates(kind, query, join, limit, lower, upper, buckets, scopes)

    monkeypatch.setattr(search_index, "_candidates_postgresql", spying)
    assert found(city.roads_staff, "路灯") == {t.number for t in made}
    assert found(city.water_staff, "路灯") == {t.number for t in others}
    if postgresql:
        assert (None in windows) == (rest > 0)  # the rest at once: a query without buckets
    monkeypatch.setattr(search_index, "CANDIDATES", 2)
    assert found(city.roads_staff, "路灯") == {t.number for t in made[2:]}
