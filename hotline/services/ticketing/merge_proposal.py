"""Which of two duplicates to keep (并单建议): the one a department is already working, else
the older one. The other is merged into it, so that the work done and the citizen's first
ticket number stay; the dispatcher may still choose the other direction."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.models import Status, Ticket

WORKED = "worked"  # a department holds it (and perhaps has signed for it): its work goes on
OLDER = "older"  # logged first: the number the citizen was given first


@dataclass(frozen=True)
class Proposal:
    keep: Ticket
    merge: Ticket
    why: str  # WORKED or OLDER


def _worked(ticket: Ticket) -> int:
    """How far a department has got with it: signed for (2), dispatched (1), with none (0)."""
    if ticket.status in (Status.IN_PROGRESS, Status.WAITING):
        return 2
    return 1 if ticket.status == Status.DISPATCHED else 0


def propose(ticket: Ticket, other: Ticket) -> Proposal:
    """The ticket to keep of `ticket` and its likely duplicate `other`."""
    if _worked(ticket) != _worked(other):
        keep = max((ticket, other), key=_worked)
        why = WORKED
    else:
        keep = min((ticket, other), key=lambda t: (t.created_at, t.id))
        why = OLDER
    return Proposal(keep, other if keep is ticket else ticket, why)


def proposed_parent(ticket: Ticket, duplicates: list[Ticket]) -> Proposal | None:
    """The first likely duplicate that `ticket` should be merged into, if any (most likely first)."""
    for other in duplicates:
        proposal = propose(ticket, other)
        if proposal.keep is other:
            return proposal
    return None
