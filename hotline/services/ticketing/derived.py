"""Data derived from tickets, kept in step in the writer's own transaction by explicit calls
(no listeners on the session): each ticket's search document (`ticket_search`: its words and,
on PostgreSQL, the scopes of its department and assisting ones) and the mark of the report
day its figures count in (`report_figures`).

`lifecycle.apply` brings its ticket in step for every action; the other writers of tickets,
their events and their assists (voicemail, citizens' texts, hotspot cases, import, the demo
city) call `tickets_changed` before they commit. Intake writes its rows without the ORM and
does the same by hand, from what it has in memory (`intake`); bulk loaders reindex and
rebuild (`flask search reindex`, `flask reports rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.extensions import db
from hotline.models import Ticket
from hotline.services.reporting import report_figures
from hotline.services.search import ticket_search

SLICE = 1000


@dataclass
class Changes:
    """What a transaction did to its tickets, brought in step (`keep_in_step`) before it commits;
    a batch gathers its tickets and brings them in step at once."""

    words: dict[int, Ticket] = field(default_factory=dict)  # their words changed: a new document
    scopes: dict[int, Ticket] = field(default_factory=dict)  # their department or assists changed
    figures: dict[int, Ticket] = field(default_factory=dict)  # their row changed: their day is marked

    def add(self, ticket: Ticket, *, words: bool = False, scopes: bool = False, figures: bool = True) -> None:
        # Keyed by the object (a new ticket has no id before the flush).
        for wanted, found in ((words, self.words), (scopes, self.scopes), (figures, self.figures)):
            if wanted:
                found[id(ticket)] = ticket

    def keep_in_step(self) -> None:
        """Flush, then rewrite the documents and scopes and mark the days, in the same transaction."""
        if not (self.words or self.scopes or self.figures):
            return
        session = db.session
        session.flush()
        report_figures.mark_tickets_changed(self.figures.values())
        connection = session.connection()
        worded = sorted({ticket.id for ticket in self.words.values()})
        scoped = sorted({ticket.id for ticket in self.scopes.values()} - set(worded))
        # In slices: a query names each id (the demo city writes thousands at once).
        for start in range(0, len(worded), SLICE):
            ticket_search.refresh(connection, worded[start : start + SLICE])  # a document comes with its scopes
        for start in range(0, len(scoped), SLICE):
            ticket_search.refresh_scopes(connection, scoped[start : start + SLICE])
        self.words, self.scopes, self.figures = {}, {}, {}


def tickets_changed(
    tickets: Iterable[Ticket], *, words: bool = True, scopes: bool = True, figures: bool = True
) -> None:
    """Bring these tickets' derived data in step now (flushing), in the caller's transaction:
    by default all of it (a ticket created, or edited in more ways than one)."""
    changes = Changes()
    for ticket in tickets:
        changes.add(ticket, words=words, scopes=scopes, figures=figures)
    changes.keep_in_step()
