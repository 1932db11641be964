"""Full-text search over Chinese and English text, the same on SQLite and PostgreSQL.

Chinese has no spaces between words, and most of its words are two characters (噪音, 停水,
路灯), too short for a trigram index. So text is prepared before it is indexed: NFKC
(full-width letters and digits become ASCII), case-folded, every run of CJK characters
written as its overlapping character bigrams (噪音扰民 -> 噪音 音扰 扰民; a lone character
as itself) and every run of other letters and digits as one word, all space-separated.
Each database then indexes plain words: an FTS5 table (unicode61) on SQLite, a
`tsvector` ('simple' configuration) with a GIN index on PostgreSQL. A query is prepared
the same way: each of its runs must appear as a phrase (停车场 -> "停车 车场", adjacent),
and all runs must appear (AND).

Ranking over millions of matches is what makes full-text search slow (a word in every
ticket matches all ten million, and FTS5's bm25() reads a word's whole doclist to weigh
it): a search takes the newest `CANDIDATES` matches, found newest first (FTS5 and a
backward primary-key scan stop early; a rare word goes through the index), and ranks
them by BM25 in Python, the same on both databases (`rank`). Fewer matches than that,
the usual case for a precise query, are all ranked.

A kind of document (tickets here; articles can reuse it) is a table `<kind>_search`
(`id` the owner's id, `document` the prepared text), kept in step by its owner; the
per-database index follows it (triggers on SQLite, a generated column on PostgreSQL).
A full rebuild (`rebuild`) writes every document through the bulk path and builds the
index once at the end.

PostgreSQL's GIN index answers unordered: for the "newest first" walk each tsvector also
holds its id bucket (`#<id // ID_BUCKET>`), and older matches are asked for a window of
buckets at a time, newest first, so that a search fetches a window's matches rather than
every match of its words (what FTS5 does by walking its doclists in rowid order).

A kind may be `scoped` (tickets): on PostgreSQL its documents also carry `scopes`, lexemes
that no prepared word can be (`@d<department id>`: the ticket's department and its assisting
ones), added to the tsvector like the bucket. A search within a scope (department staff) asks
the GIN index for the words *and* the scope, so that a word common in the city but rare in
the department is not walked match by match; the rights are still checked exactly on the
owner's row, the scope only narrows the walk (it must hold at least what the rights let
through). SQLite does not need it (FTS5 meets the goal by its rowid-ordered walk).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import Connection, String, Table, bindparam, cast, column, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from hotline.services.errors import InvalidInput

CANDIDATES = 500  # the newest matches that are ranked (see the module's docstring)
RECENT = 20_000  # PostgreSQL: the newest documents walked before the index is used (see match)
QUERY_MAX = 200  # characters of a query
QUERY_GROUPS_MAX = 12  # runs (words) of a query
WORD_MAX = 64  # a longer Latin "word" (a URL, a hash) is cut: both databases cap token length
DOCUMENT_TOKENS_MAX = 16_000  # PostgreSQL keeps positions up to 16383
# PostgreSQL: a document's tsvector also holds `#<id // ID_BUCKET>` (migration a7f1c0de0006), so
# that the GIN index can keep a word's matches to a range of ids (match). Changing it needs a
# migration that rewrites the generated column.
ID_BUCKET = 65_536
# PostgreSQL, within a scope (match): after the windows of fewer than this many buckets, the
# rest is asked for at once when it should hold at most SCOPED_REST matches at the density seen.
SCOPED_SAMPLE_BUCKETS = 8
SCOPED_REST = 5_000
# The tsvector of a document on PostgreSQL (a migration keeps its own copy of what it ran):
# its words, its id bucket and, for a scoped kind, its scopes (space-separated lexemes).
BUCKETED = f"to_tsvector('simple', document) || array_to_tsvector(ARRAY['#' || (id / {ID_BUCKET})::text])"
SCOPED = (
    f"to_tsvector('simple', document) || array_to_tsvector(ARRAY['#' || (id / {ID_BUCKET})::text] "
    "|| coalesce(string_to_array(scopes, ' '), '{}'))"
)


# --- text preparation (pure functions) ------------------------------------------------


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x20000 <= code <= 0x2FA1F  # extensions B-F, compatibility supplement
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
    )


def normalise(value: str) -> str:
    """NFKC (全角 ＡＢＣ１２３ -> abc123, ① -> 1) and case-folded."""
    return unicodedata.normalize("NFKC", value).casefold()


_CJK_RANGES = "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002fa1f\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
# A run of CJK characters (is_cjk), or of other letters and digits (str.isalnum: \w less "_").
# One regex pass rather than a loop over characters: a bulk reindex prepares millions of texts.
_RUN = re.compile(f"([{_CJK_RANGES}]+)|([^\\W_{_CJK_RANGES}]+)")


def runs(value: str) -> Iterator[tuple[bool, str]]:
    """(is_cjk, run) for each run of CJK characters or of other letters and digits;
    anything else (spaces, punctuation, symbols) separates runs."""
    for found in _RUN.finditer(normalise(value)):
        cjk = found.group(1)
        yield (True, cjk) if cjk is not None else (False, found.group(2))


def run_tokens(cjk: bool, run: str) -> list[str]:
    if not cjk:
        return [run[:WORD_MAX]]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(value: str) -> list[str]:
    return [token for cjk, run in runs(value) for token in run_tokens(cjk, run)]


def prepare(*texts: str | None) -> str:
    """The document to index for these texts: their tokens, space-separated."""
    words: list[str] = []
    for value in texts:
        if value:
            words.extend(tokens(value))
    return " ".join(words[:DOCUMENT_TOKENS_MAX])


def spaced(document: str) -> str:
    """The document with its spaces doubled and one at each end, so that a phrase found in
    it is whole tokens, and one repeated back to back is counted each time."""
    return " " + document.replace(" ", "  ") + " "


@dataclass(frozen=True)
class Query:
    """A parsed query: each group's tokens must appear adjacent, and every group must appear."""

    raw: str
    groups: tuple[tuple[str, ...], ...]
    terms: tuple[str, ...]  # the normalised runs, for highlighting

    def fts5(self) -> str:
        # Tokens are letters and digits only, so quoting them needs no escaping.
        return " AND ".join('"' + " ".join(group) + '"' for group in self.groups)

    def phrases(self) -> list[str]:
        """Each group as it reads in a document whose spaces are doubled (`spaced`)."""
        return [" " + "  ".join(group) + " " for group in self.groups]

    def matches(self, document: str) -> bool:
        """What the index answers for this document: every group's tokens side by side."""
        padded = spaced(document)
        return all(phrase in padded for phrase in self.phrases())

    def tsquery(self) -> str:
        # Every token, without the phrase operator: GIN cannot check positions, so a phrase
        # would send each candidate back to the table; `match` checks adjacency itself.
        tokens = dict.fromkeys(token for group in self.groups for token in group)
        return " & ".join(f"'{token}'" for token in tokens)


def parse_query(raw: str | None) -> Query:
    """The query, or InvalidInput when it has nothing to search for. A single Chinese
    character is too short to search alone (the index holds pairs); beside longer words it
    is left out. Latin words of any length count, but one of the words needs two characters."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(_("Type the words to search for."), field="q")
    if len(value) > QUERY_MAX:
        raise InvalidInput(_("The search is too long: at most %(max)d characters.", max=QUERY_MAX), field="q")
    groups: list[tuple[str, ...]] = []
    terms: list[str] = []
    for cjk, run in runs(value):
        if cjk and len(run) == 1:
            continue
        group = tuple(run_tokens(cjk, run))
        if group not in groups:
            groups.append(group)
            terms.append(run)
    if not groups or all(len(term) < 2 for term in terms):
        raise InvalidInput(
            _("The search is too short: type at least two Chinese characters or a word of two letters or digits."),
            field="q",
        )
    if len(groups) > QUERY_GROUPS_MAX:
        raise InvalidInput(_("Too many words: at most %(max)d.", max=QUERY_GROUPS_MAX), field="q")
    return Query(value, tuple(groups), tuple(terms))


# --- snippets ----------------------------------------------------------------------------


def snippet(value: str, query: Query, width: int = 90) -> Markup | None:
    """A window of `value` around the first match of the query's terms, with every term in it
    marked; None when no term occurs in it."""
    if not value:
        return None
    # Normalise character by character to map each match back to the original text.
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(value):
        piece = normalise(char)
        folded.append(piece)
        origin.extend([index] * len(piece))
    haystack = "".join(folded)
    pattern = re.compile("|".join(re.escape(term) for term in sorted(query.terms, key=len, reverse=True)))
    spans = [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(haystack)]
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(value), start + width)
    start = max(0, min(start, end - width))
    parts: list[str] = ["…" if start > 0 else ""]
    position = start
    for low, high in spans:
        if low < position or high > end:
            continue
        parts.append(str(escape(value[position:low])))
        parts.append("<mark>" + str(escape(value[low:high])) + "</mark>")
        position = high
    parts.append(str(escape(value[position:end])))
    parts.append("…" if end < len(value) else "")
    return Markup(" ".join("".join(parts).split()))  # noqa: S704 (each piece is escaped above)


def plain(marked: Markup | None) -> str | None:
    """A snippet without its marks, as plain text."""
    return None if marked is None else marked.striptags()


# --- the index of one kind of document ---------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of searchable document: `<name>_search(id, document)`, and on SQLite the FTS5
    table `<name>_search_fts` over it (external content, rowid = id)."""

    name: str
    scoped: bool = False  # PostgreSQL: documents carry `scopes` (see the module's docstring)

    @property
    def table(self) -> str:
        return f"{self.name}_search"

    @property
    def fts(self) -> str:
        return f"{self.name}_search_fts"

    def documents(self) -> Table:
        return table(self.table, column("id"), column("document"))

    def scoped_documents(self) -> Table:
        return table(self.table, column("id"), column("document"), column("scopes"))


def uses_scopes(connection: Connection, kind: Kind) -> bool:
    """Whether this kind's documents carry scopes on this database (PostgreSQL only)."""
    return kind.scoped and connection.dialect.name == "postgresql"


def create_statements(kind: Kind, dialect: str) -> list[str]:
    """The index over an existing `<kind>_search(id INTEGER PRIMARY KEY, document TEXT)` table:
    for a migration of a new kind (a migration keeps its own copy of what it ran)."""
    if dialect == "postgresql":
        scopes = [f"ALTER TABLE {kind.table} ADD COLUMN scopes text"] if kind.scoped else []
        return [
            *scopes,
            f"ALTER TABLE {kind.table} ADD COLUMN terms tsvector GENERATED ALWAYS AS "
            f"({SCOPED if kind.scoped else BUCKETED}) STORED",
            f"CREATE INDEX ix_{kind.table}_terms ON {kind.table} USING gin (terms)",
        ]
    return [
        f"CREATE VIRTUAL TABLE {kind.fts} USING fts5(document, content='{kind.table}', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=full)",
        f"CREATE TRIGGER {kind.table}_ai AFTER INSERT ON {kind.table} BEGIN "
        f"INSERT INTO {kind.fts}(rowid, document) VALUES (new.id, new.document); END",
        f"CREATE TRIGGER {kind.table}_ad AFTER DELETE ON {kind.table} BEGIN "
        f"INSERT INTO {kind.fts}({kind.fts}, rowid, document) VALUES ('delete', old.id, old.document); END",
        f"CREATE TRIGGER {kind.table}_au AFTER UPDATE ON {kind.table} BEGIN "
        f"INSERT INTO {kind.fts}({kind.fts}, rowid, document) VALUES ('delete', old.id, old.document); "
        f"INSERT INTO {kind.fts}(rowid, document) VALUES (new.id, new.document); END",
    ]


def drop_statements(kind: Kind, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return []  # the column and its index go with the table
    return [f"DROP TABLE IF EXISTS {kind.fts}"]  # the triggers go with their table


def write(
    connection: Connection, kind: Kind, documents: dict[int, str], scopes: dict[int, str | None] | None = None
) -> None:
    """Insert or replace these documents (id -> prepared text), in the caller's transaction.
    `scopes` (id -> scopes, for a scoped kind on PostgreSQL; ignored elsewhere) are written
    with them; without it a new document has none and an existing one keeps its own."""
    if not documents:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    with_scopes = scopes is not None and uses_scopes(connection, kind)
    target = kind.scoped_documents() if with_scopes else kind.documents()
    written = [c.name for c in target.c if c.name != "id"]
    statement = upsert(target).on_conflict_do_update(
        index_elements=[target.c.id], set_={name: literal_column(f"excluded.{name}") for name in written}
    )
    rows = [{"id": key, "document": value} for key, value in documents.items()]
    if with_scopes:
        for row in rows:
            row["scopes"] = scopes.get(row["id"])
    connection.execute(statement, rows)


def write_scopes(connection: Connection, kind: Kind, scopes: dict[int, str | None]) -> None:
    """Set the scopes of these existing documents (a no-op where the kind has none); a row
    whose scopes are already these is not rewritten (its tsvector and GIN entries stay)."""
    if not scopes or not uses_scopes(connection, kind):
        return
    connection.execute(
        text(f"UPDATE {kind.table} SET scopes = :scopes WHERE id = :id AND scopes IS DISTINCT FROM :scopes"),
        [{"id": key, "scopes": value} for key, value in scopes.items()],
    )


def rebuild(connection: Connection, kind: Kind, batches: Iterable[list[tuple[Any, ...]]]) -> int:
    """Replace every document by these (id, prepared text) batches, (id, prepared text,
    scopes) for a scoped kind on PostgreSQL, in the caller's transaction,
    and build the index once at the end rather than row by row: on SQLite the sync triggers are
    dropped, the rows written with executemany and FTS5's 'rebuild' run, then the triggers put
    back; on PostgreSQL the GIN index is dropped, the rows COPYed and the index created again.
    Other writers to the documents wait for the transaction (SQLite's write lock, PostgreSQL's
    TRUNCATE lock) and then apply their change on top. Returns the documents written."""
    written = 0
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS ix_{kind.table}_terms")
        connection.exec_driver_sql(f"TRUNCATE {kind.table}")
        raw = connection.connection.driver_connection
        columns = "id, document, scopes" if kind.scoped else "id, document"
        for rows in batches:
            with raw.cursor() as cursor, cursor.copy(f"COPY {kind.table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            written += len(rows)
        connection.exec_driver_sql(f"CREATE INDEX ix_{kind.table}_terms ON {kind.table} USING gin (terms)")
        connection.exec_driver_sql(f"ANALYZE {kind.table}")
        return written
    for suffix in ("ai", "ad", "au"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {kind.table}_{suffix}")
    connection.exec_driver_sql(f"DELETE FROM {kind.table}")
    for rows in batches:
        connection.exec_driver_sql(f"INSERT INTO {kind.table} (id, document) VALUES (?, ?)", rows)
        written += len(rows)
    # 'rebuild' reads the content table once and writes the index anew (no per-row merges).
    connection.exec_driver_sql(f"INSERT INTO {kind.fts}({kind.fts}) VALUES ('rebuild')")
    for statement in create_statements(kind, "sqlite")[1:]:  # the triggers, as the migration made them
        connection.exec_driver_sql(statement)
    return written


def remove(connection: Connection, kind: Kind, ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        target = kind.documents()
        connection.execute(target.delete().where(target.c.id.in_(ids)))


def unchanged(
    connection: Connection, kind: Kind, documents: dict[int, str], scopes: dict[int, str | None] | None = None
) -> set[int]:
    """The ids whose stored document (and scopes, when given and used) is already this one (a
    rerun of a reindex writes nothing)."""
    if not documents:
        return set()
    with_scopes = scopes is not None and uses_scopes(connection, kind)
    target = kind.scoped_documents() if with_scopes else kind.documents()
    rows = connection.execute(select(target).where(target.c.id.in_(list(documents))))
    return {
        row.id
        for row in rows
        if documents.get(row.id) == row.document and (not with_scopes or scopes.get(row.id) == row.scopes)
    }


def match(
    connection: Connection,
    kind: Kind,
    query: Query,
    *,
    join: tuple[FromClause, ColumnElement[int]] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int | None = None,
    low: int | None = None,
    high: int | None = None,
    scopes: Sequence[str] = (),
) -> list[tuple[int, float]]:
    """(id, score) of the newest `limit` documents matching the query, best score first.

    `join` = (the owner's table, its id column) and `where` filter the matches on the
    owner's columns (the rights, the filters), in the same query. `low` and `high` bound the
    ids (inclusive) when the caller knows that no document outside passes `where` (a date
    range's ids): the walk down the index stops there instead of at the oldest match.
    `scopes` (a scoped kind, PostgreSQL): only documents carrying one of them can pass
    `where`, so the index is asked for the words within them (see the module's docstring)."""
    limit = CANDIDATES if limit is None else limit
    if low is not None and high is not None and low > high:
        return []
    if connection.dialect.name != "postgresql":
        statement = _candidates_sqlite(kind, query, join, limit, low, high).where(*where)
        return rank(query, [row for row in connection.execute(statement) if query.matches(row.document)])
    # PostgreSQL: GIN gives its matches unordered, and the planner, misled by pairs that
    # always come together (人民, 民路), can fetch and sort every match of a common word.
    # So the newest RECENT documents are walked first, newest first, stopping at the limit;
    # a word too rare to fill it there goes through the index for the older ones, a window
    # of id buckets at a time, each twice the last (8 windows for 10 million), newest first:
    # the GIN index itself keeps the word's matches to the window's buckets (their `#n`
    # lexemes), so what is fetched and sorted is a window's matches, not the word's all.
    within = list(scopes) if uses_scopes(connection, kind) else []
    documents = kind.documents()
    oldest, newest = connection.execute(select(func.min(documents.c.id), func.max(documents.c.id))).one()
    if newest is None:
        return []
    if high is not None:
        newest = min(newest, high)
    floor = oldest if low is None else max(oldest, low)
    after = max(newest - RECENT, floor - 1)
    recent = _recent_postgresql(kind, query, join, limit, after, newest, within).where(*where)
    rows = [row for row in connection.execute(recent) if query.matches(row.document)]
    buckets = 1
    while len(rows) < limit and after >= floor:
        if within and buckets >= SCOPED_SAMPLE_BUCKETS:
            # Within a scope, once the newest windows have shown the words to be rare there, the
            # rest is one query without buckets: a window's bucket lexemes are what the GIN
            # index walks first (the rarest entries), all of their ids, which for 64 buckets
            # (4 million ids) costs more than the few matches of the words and the scope.
            walked = newest - after
            if (len(rows) + 1) * (after - floor + 1) <= SCOPED_REST * walked:
                rest = _candidates_postgresql(kind, query, join, limit - len(rows), floor, after, None, within)
                rows += [row for row in connection.execute(rest.where(*where)) if query.matches(row.document)]
                break
        top = after // ID_BUCKET
        bottom = max(top - buckets + 1, floor // ID_BUCKET)
        lower = max(bottom * ID_BUCKET, floor)
        window = range(bottom, top + 1)
        older = _candidates_postgresql(kind, query, join, limit - len(rows), lower, after, window, within)
        rows += [row for row in connection.execute(older.where(*where)) if query.matches(row.document)]
        after = lower - 1
        buckets *= 2
    return rank(query, rows)


def match_among(
    connection: Connection, kind: Kind, query: Query, ids: Sequence[int], limit: int | None = None
) -> list[tuple[int, float]]:
    """`match` among these ids only (the few that the filters let through, newest first): their
    documents are read and matched here as the index would (a phrase is its tokens side by
    side), rather than walking a common word's every match for the few that pass."""
    limit = CANDIDATES if limit is None else limit
    documents = kind.documents()
    rows: list[Any] = []
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        found = {
            row.id: row
            for row in connection.execute(select(documents.c.id, documents.c.document).where(documents.c.id.in_(chunk)))
        }
        for key in chunk:
            row = found.get(key)
            if row is not None and query.matches(row.document):
                rows.append(row)
                if len(rows) == limit:
                    return rank(query, rows)
    return rank(query, rows)


def _candidates_sqlite(kind: Kind, query: Query, join, limit: int, low: int | None, high: int | None):
    fts = table(kind.fts, column("rowid"), column("document"))
    matching = text(f"{kind.fts} MATCH :expression").bindparams(expression=query.fts5())
    # FTS5 walks its doclists newest (highest rowid) first and stops at the limit, or at a
    # rowid bound: it seeks to `high` and ends below `low`.
    statement = (
        select(fts.c.rowid.label("id"), fts.c.document).where(matching).order_by(fts.c.rowid.desc()).limit(limit)
    )
    if low is not None:
        statement = statement.where(fts.c.rowid >= low)
    if high is not None:
        statement = statement.where(fts.c.rowid <= high)
    return statement.select_from(fts.join(join[0], join[1] == fts.c.rowid) if join else fts)


def _any_of(lexemes: Iterable[str], inline: bool = False) -> ColumnElement[Any]:
    """A tsquery for any of these lexemes as they are stored ('#12', '@d5'): cast, not parsed
    (to_tsquery would drop the '#' and the '@')."""
    value = " | ".join(f"'{lexeme}'" for lexeme in lexemes)
    return cast(bindparam(None, value, type_=String, literal_execute=inline), TSQUERY)


def _tsquery(query: Query, scopes: Sequence[str], inline: bool = False) -> ColumnElement[Any]:
    """`inline`: the values written into the statement (escaped) rather than bound, so that
    PostgreSQL plans it for these words each time: psycopg prepares a statement run five
    times, and the generic plan of the scoped rest query (match) walked 700 ms where the
    words' own plan takes 10."""
    words = func.to_tsquery(
        literal_column("'simple'"), bindparam(None, query.tsquery(), type_=String, literal_execute=inline)
    )
    return words.op("&&")(_any_of(scopes, inline)) if scopes else words


def _candidates_postgresql(
    kind: Kind,
    query: Query,
    join,
    limit: int,
    lower: int,
    upper: int,
    buckets: range | None,
    scopes: Sequence[str] = (),
):
    documents = table(kind.table, column("id"), column("document"), column("terms"))
    tsquery = _tsquery(query, scopes, inline=buckets is None)
    if buckets is not None:
        tsquery = tsquery.op("&&")(_any_of(f"#{bucket}" for bucket in buckets))
    statement = (
        select(documents.c.id, documents.c.document)
        .where(documents.c.terms.op("@@")(tsquery), documents.c.id.between(lower, upper))
        # id + 0: not the primary key's order, or the planner, hoping for an early stop, may
        # walk all the window's rows for a word that is rare there.
        .order_by((documents.c.id + 0).desc())
        .limit(limit)
    )
    if not join:
        return statement.select_from(documents)
    # The window on the owner's side too, so that its filters are read for the window only.
    return statement.select_from(documents.join(join[0], join[1] == documents.c.id)).where(
        join[1].between(lower, upper)
    )


def _recent_postgresql(kind: Kind, query: Query, join, limit: int, after: int, newest: int, scopes: Sequence[str] = ()):
    documents = table(kind.table, column("id"), column("document"), column("terms"))
    tsquery = _tsquery(query, scopes)
    # OFFSET 0 keeps the subquery whole: the word is checked row by row on the walk down the
    # primary key, never looked up in the GIN index.
    walk = (
        select(documents.c.id, documents.c.document, documents.c.terms)
        .where(documents.c.id > after, documents.c.id <= newest)
        .order_by(documents.c.id.desc())
        .offset(0)
        .subquery("recent")
    )
    statement = (
        select(walk.c.id, walk.c.document).where(walk.c.terms.op("@@")(tsquery)).order_by(walk.c.id.desc()).limit(limit)
    )
    return statement.select_from(walk.join(join[0], join[1] == walk.c.id) if join else walk)


# BM25's constants: how fast repeats stop counting, how much a long document is discounted.
K1 = 1.2
B = 0.75


def rank(query: Query, rows: Sequence[Any]) -> list[tuple[int, float]]:
    """(id, score) best first, newest first among equals: BM25 over the candidates, the same
    on both databases. Every word must match, so the inverse document frequency would only
    weigh words against each other; it is left out (bm25() in FTS5 counts it by reading the
    word's whole doclist, 100 ms for a word in every ticket of a million)."""
    if not rows:
        return []
    lengths = [row.document.count(" ") + 1 for row in rows]
    average = sum(lengths) / len(lengths)
    phrases = query.phrases()
    scored = []
    for row, length in zip(rows, lengths, strict=True):
        padded = spaced(row.document)
        score = 0.0
        for phrase in phrases:
            frequency = padded.count(phrase)
            score += frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))
        scored.append((row.id, round(score, 6)))
    return sorted(scored, key=lambda pair: (-pair[1], -pair[0]))
