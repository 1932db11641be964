"""The ticket's lifecycle as data: every action, the states it starts from, who takes it,
the state it leads to, the event it writes and what it does to the SLA clocks.

Read `ACTIONS` to learn the 12345 workflow; the services (`tickets`, `returns`, `deadlines`,
`merging`, `survey`, `assists`), the ticket page's action cards, the API's `actions` field
and the OpenAPI description all read it.

`apply` takes an action: `require` (the right), `check` (state and version), `move` (the one
place that sets `ticket.status`), the clocks, the event, the commit. The services' action
functions read their input, do their own part (a request row, a notice) and call it.

Rights: `roles` are the roles that may take an action (none: the system takes it: a job, the
citizen by text); `relations` narrow them to the ticket (the department holding it, one
assisting on it, any who may see it). `needs` names a condition beyond the state (a request
waiting for a decision, or none waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import (
    Department,
    ExtensionRequest,
    HoldOutcome,
    ReturnRequest,
    Role,
    Status,
    Ticket,
    TicketAssist,
    TicketEvent,
    TicketHold,
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.city import duty
from hotline.services.clocks import sla
from hotline.services.errors import PermissionDenied
from hotline.services.search import ticket_search
from hotline.services.ticketing import derived
from hotline.services.ticketing.transition import check_state, conflict_if_stale, record_event

# Relations of an actor to a ticket.
HOLDING = "holding"  # staff of the department that holds it (主办)
ASSISTING = "assisting"  # staff of a department with an open assist on it (协办)
VISIBLE = "visible"  # anyone who may see it (`access.can_see`)
# Units in a tree (issue 17): HOLDING is the unit holding it now (`Ticket.holder_id`, else the
# unit the city dispatched it to); these narrow it further.
DISPATCHED_TO = "dispatched_to"  # staff of the unit the city dispatched it to (`Ticket.department_id`)
ABOVE = "above"  # staff of a unit above the one holding it, in its chain (下派)
UNIT_LEAD = "unit_lead"  # the lead (单位负责人) of the actor's unit
WITH_SUB_UNITS = "with_sub_units"  # staff of a unit that has sub-units to send it down to

# What an action does to the SLA clocks (`sla`).
START = "start"  # accept and resolve deadlines from now
STOP_ACCEPT = "stop_accept"  # the accept clock no longer counts
STOP = "stop"  # no deadlines any more
FINISH = "finish"  # answered: the clocks stop, their deadlines stay to judge the answer by
PAUSE = "pause"  # stopped until the citizen answers
RESUME = "resume"  # run again, each deadline moved by the pause
EXTEND = "extend"  # the resolve deadline moves by the days granted
KEEP = ""
CLOCK_EFFECTS = (START, STOP_ACCEPT, STOP, FINISH, PAUSE, RESUME, EXTEND)

# Conditions beyond the state.
PENDING_EXTENSION = "pending_extension"
NO_PENDING_EXTENSION = "no_pending_extension"
PENDING_RETURN = "pending_return"
NO_PENDING_RETURN = "no_pending_return"
# Units in a tree (issue 17)
SENT_DOWN = "sent_down"  # held below the unit the city dispatched it to
PENDING_REVIEW = "pending_review"  # a reply from the unit below waits for the holder's review (审核)
NO_PENDING_REVIEW = "no_pending_review"

DEPARTMENT = (Role.DEPARTMENT,)


@dataclass(frozen=True)
class Action:
    name: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: the state stays (a note, an urge, a request)
    event_kind: str
    roles: tuple[str, ...] = ()  # none: only the system takes it
    relations: tuple[str, ...] = ()  # none: the role is enough
    clocks: str = KEEP
    needs: str = ""
    # The endpoints that take it: pages, API, Twilio webhooks (system actions), or none for a job.
    routes: tuple[str, ...] = ()
    job: str = ""  # for a system action that no route takes: the job that does
    listed: bool = True  # False: a variant that another action's route takes (not in `actions`)

    @property
    def by_system(self) -> bool:
        return not self.roles


_W = Status.WITH_DEPARTMENT
_DISPATCH = access.DISPATCH_ROLES
_SUPERVISE = access.SUPERVISE_ROLES

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        # Intake (`intake`, which writes the new ticket's row with a plain INSERT, for speed): a
        # ticket is born new, or closed at once when the operator answered the question directly.
        Action(
            "create",
            (),
            Status.NEW,
            "created",
            roles=access.INTAKE_ROLES,
            routes=("intake.new_ticket", "api.create_ticket"),
            listed=False,
        ),
        Action(
            "answer_directly",
            (Status.NEW,),
            Status.CLOSED,
            "direct_answer",
            roles=access.INTAKE_ROLES,
            routes=("intake.new_ticket", "api.create_ticket"),
            listed=False,
        ),
        # Routing (a job): a rule, the category's department or a suggestion places it, else the desk.
        Action(
            "route", (Status.NEW,), Status.DISPATCHED, "routed", clocks=START, job="hotline.tasks.routing.route_ticket"
        ),
        Action(
            "route_to_desk", (Status.NEW,), Status.PENDING_DISPATCH, "routed", job="hotline.tasks.routing.route_ticket"
        ),
        # 派单 and 改派: dispatchers place what routing could not, and reassign what a department holds.
        Action(
            "dispatch",
            (Status.NEW, Status.PENDING_DISPATCH),
            Status.DISPATCHED,
            "dispatched",
            roles=_DISPATCH,
            clocks=START,
            routes=("tickets.dispatch", "api.dispatch", "hotspots.assign"),
        ),
        Action(
            "reassign",
            _W,
            Status.DISPATCHED,
            "reassigned",
            roles=_DISPATCH,
            clocks=START,
            routes=("tickets.dispatch", "api.dispatch"),
        ),
        # 签收, 办结 and 退单: the department holding the ticket.
        Action(
            "accept",
            (Status.DISPATCHED,),
            Status.IN_PROGRESS,
            "accepted",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            clocks=STOP_ACCEPT,
            routes=("tickets.accept", "api.accept"),
        ),
        Action(
            "resolve",
            (Status.IN_PROGRESS, Status.WAITING),
            Status.RESOLVED,
            "resolved",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            clocks=FINISH,
            routes=("tickets.resolve", "api.resolve"),
        ),
        # Within the return window a return goes straight back to the desk; after it, the same
        # route files a request (`request_return`) that a supervisor decides; one at a time.
        Action(
            "return",
            _W,
            Status.PENDING_DISPATCH,
            "returned",
            roles=DEPARTMENT,
            relations=(HOLDING, DISPATCHED_TO),  # a unit it was sent down to returns it up instead
            clocks=STOP,
            needs=NO_PENDING_RETURN,
            routes=("tickets.return_", "api.return_to_dispatch"),
        ),
        Action(
            "request_return",
            _W,
            None,
            "return_requested",
            roles=DEPARTMENT,
            relations=(HOLDING, DISPATCHED_TO),
            needs=NO_PENDING_RETURN,
            routes=("tickets.return_", "api.return_to_dispatch"),
            listed=False,
        ),
        Action(
            "approve_return",
            _W,
            Status.PENDING_DISPATCH,
            "returned",
            roles=_SUPERVISE,
            clocks=STOP,
            needs=PENDING_RETURN,
            routes=("tickets.approve_return", "api.approve_return"),
        ),
        Action(
            "refuse_return",
            _W,
            None,
            "return_refused",
            roles=_SUPERVISE,
            needs=PENDING_RETURN,
            routes=("tickets.refuse_return", "api.refuse_return"),
        ),
        # Waiting on the citizen pauses the clocks; the department (or the citizen's text) resumes them.
        Action(
            "wait",
            (Status.IN_PROGRESS,),
            Status.WAITING,
            "waiting",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            clocks=PAUSE,
            routes=("tickets.wait", "api.wait_on_citizen"),
        ),
        Action(
            "resume",
            (Status.WAITING,),
            Status.IN_PROGRESS,
            "resumed",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            clocks=RESUME,
            routes=("tickets.resume", "api.resume", "twilio.incoming_sms"),
        ),
        # 延期: the department asks, a supervisor decides; one request at a time.
        Action(
            "extend",
            _W,
            None,
            "extension_requested",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            needs=NO_PENDING_EXTENSION,
            routes=("tickets.request_extension", "api.request_extension"),
        ),
        Action(
            "approve_extension",
            _W,
            None,
            "extension_approved",
            roles=_SUPERVISE,
            clocks=EXTEND,
            needs=PENDING_EXTENSION,
            routes=("tickets.approve_extension", "api.approve_extension"),
        ),
        Action(
            "refuse_extension",
            _W,
            None,
            "extension_refused",
            roles=_SUPERVISE,
            needs=PENDING_EXTENSION,
            routes=("tickets.refuse_extension", "api.refuse_extension"),
        ),
        # 催办
        Action("urge", _W, None, "urged", roles=_SUPERVISE, routes=("tickets.urge", "api.urge")),
        # 协办: an assisting department reports its part; the lead department still resolves.
        Action(
            "assist_done",
            _W,
            None,
            "assist_done",
            roles=DEPARTMENT,
            relations=(ASSISTING,),
            routes=("tickets.assist_done", "api.assist_done"),
        ),
        # An internal note, in any state, by anyone who may see the ticket.
        Action(
            "notes",
            Status.ALL,
            None,
            "note",
            roles=Role.ALL,
            relations=(VISIBLE,),
            routes=("tickets.add_note", "api.add_note"),
        ),
        # 合并: a duplicate joins the ticket that answers for both.
        Action(
            "merge",
            Status.OPEN,
            Status.MERGED,
            "merged",
            roles=_DISPATCH,
            clocks=STOP,
            routes=("tickets.merge", "api.merge"),
        ),
        # The survey (回访): the citizen rates by text; satisfied closes, unsatisfied reopens
        # once (重办) with fresh clocks; no rating in time closes it (the sweep).
        Action("rate", (Status.RESOLVED,), None, "rated", routes=("twilio.incoming_sms",)),
        Action("close", (Status.RESOLVED,), Status.CLOSED, "closed", routes=("twilio.incoming_sms",)),
        Action(
            "reopen",
            (Status.RESOLVED,),
            Status.IN_PROGRESS,
            "reopened",
            clocks=START,
            routes=("twilio.incoming_sms", "contacts.record_callback", "api.record_callback"),
        ),
        # --- Contact with the citizen (先联系后办理) and callback (回访), issue 17 items 3 and 5
        # (services/citizens/citizen_contact.py). The unit holding the ticket records each attempt (a call
        # made outside, a text from a template), starts a call that the hotline bridges, or
        # reveals the number with a reason; Twilio's status callback logs a bridged call's end.
        Action(
            "contact",
            _W,
            None,
            "contacted",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            routes=("contacts.record_contact", "api.record_contact"),
        ),
        Action(
            "call_citizen",
            _W,
            None,
            "citizen_call_started",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            routes=("contacts.call_citizen", "api.call_citizen"),
        ),
        Action(
            "reveal_phone",
            _W,
            None,
            "phone_revealed",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            routes=("contacts.reveal_phone", "api.reveal_phone"),
        ),
        # A bridged call ended (contact or callback): in any state, the ticket may have moved on meanwhile.
        Action("log_call", Status.ALL, None, "citizen_called", routes=("twilio.contact_call_status",)),
        # 回访: operators call the citizen of a resolved ticket from the callback queue and record
        # the answer; unsatisfied reopens it (`reopen`, as a text rating does).
        Action(
            "callback_call",
            (Status.RESOLVED,),
            None,
            "citizen_call_started",
            roles=access.CALLBACK_ROLES,
            relations=(VISIBLE,),
            routes=("contacts.callback_call", "api.callback_call"),
        ),
        Action(
            "callback",
            (Status.RESOLVED,),
            None,
            "called_back",
            roles=access.CALLBACK_ROLES,
            relations=(VISIBLE,),
            routes=("contacts.record_callback", "api.record_callback"),
        ),
        # --- end of contact with the citizen and callback
        # --- Units in a tree (issue 17, services/ticketing/tree.py) ---------------------------------------
        # 下派: the unit holding an accepted ticket sends it down to a sub-unit, which signs for it
        # (accept), works it, sends it further down, returns it up (回退) or replies (resolve).
        Action(
            "subdispatch",
            (Status.IN_PROGRESS,),
            Status.DISPATCHED,
            "subdispatched",
            roles=DEPARTMENT,
            relations=(HOLDING, WITH_SUB_UNITS),  # not while a reply waits for its review (`tree`)
            routes=("tickets.subdispatch", "api.subdispatch"),
        ),
        Action(
            "return_up",
            (Status.DISPATCHED, Status.IN_PROGRESS),
            Status.IN_PROGRESS,  # back to the unit above, which had accepted it
            "returned_up",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            needs=SENT_DOWN,
            routes=("tickets.return_up", "api.return_up"),
        ),
        # A reply from below waits for the review (审核) of the unit above (unless the replying
        # unit needs none: then `resolve` resolves it for the city); the resolve route takes it.
        Action(
            "reply_up",
            (Status.IN_PROGRESS,),
            None,
            "reply_submitted",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            needs=SENT_DOWN,
            routes=("tickets.resolve", "api.resolve"),
            listed=False,
        ),
        # 审核: approved by the city's unit (or one needing no review), the reply resolves the
        # ticket; approved by a unit itself below, it goes up for that unit's own review.
        Action(
            "review",
            (Status.IN_PROGRESS,),
            Status.RESOLVED,
            "resolved",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            clocks=FINISH,
            needs=PENDING_REVIEW,
            routes=("tickets.review", "api.review"),
        ),
        Action(
            "approve_reply_up",
            (Status.IN_PROGRESS,),
            None,
            "reply_approved",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            needs=PENDING_REVIEW,
            routes=("tickets.review", "api.review"),
            listed=False,
        ),
        Action(
            "refuse_reply",
            (Status.IN_PROGRESS,),
            None,
            "reply_refused",
            roles=DEPARTMENT,
            relations=(HOLDING,),
            needs=PENDING_REVIEW,
            routes=("tickets.review", "api.review"),
            listed=False,
        ),
        # 承办人: the lead of the holding unit names the person who handles it.
        Action(
            "assign",
            _W,
            None,
            "assigned",
            roles=DEPARTMENT,
            relations=(HOLDING, UNIT_LEAD),
            routes=("tickets.assign", "api.assign"),
        ),
    )
}

# Units in a tree (issue 17): the actions after which the ticket has left its chain of units (to
# another unit, the desk, a parent ticket, or resolved for the city): the holds end.
LEAVES_CHAIN = ("dispatch", "reassign", "return", "approve_return", "merge", "resolve", "review")


def listed_names() -> list[str]:
    """The names a ticket's `actions` can hold."""
    return [action.name for action in ACTIONS.values() if action.listed and action.roles]


def require(actor: User, ticket: Ticket, name: str) -> None:
    """Refuse (PermissionDenied) an actor whose role or relation to `ticket` the table does not
    allow for action `name`. The services call it first, before reading their input, so that
    one who may not act learns nothing of the ticket from the answer."""
    action = ACTIONS[name]
    if not action.roles:
        raise PermissionDenied(_("Your role may not do this."))  # the system's own action
    if HOLDING in action.relations:
        access.require_own_department(actor, ticket)  # the holding department's staff, and they only
    # Units in a tree (issue 17)
    for relation, refusal in _TREE_REFUSALS.items():
        if relation in action.relations and not _RELATIONS[relation](actor, ticket):
            raise PermissionDenied(str(refusal()))
    if ASSISTING in action.relations:
        # Any assist of the actor's department, open or done: a part already done is a
        # conflict of state (the service says so), not a refusal.
        if actor.role not in action.roles:
            raise PermissionDenied(_("Only an assisting department may do this."))
        if not _assists(actor, ticket):
            raise PermissionDenied(_("Your department does not assist on this ticket."))
    access.require_role(actor, *action.roles)
    if VISIBLE in action.relations and not access.can_see(actor, ticket):
        raise PermissionDenied(_("You may not see this ticket."))


def check(ticket: Ticket, name: str, expected_version: int | None) -> None:
    """Refuse (Conflict) when the actor saw an older version or the state does not allow `name`."""
    check_state(ticket, expected_version, *ACTIONS[name].from_states)


def move(ticket: Ticket, name: str) -> str:
    """Set the state that action `name` leads to; returns the state it left. The one place
    that writes `ticket.status` (after the service has checked right, state and version)."""
    action = ACTIONS[name]
    if action.to_state is None:
        raise ValueError(f"{name} keeps the state")
    before = ticket.status
    if before not in action.from_states:
        raise ValueError(f"{name} does not start from {before}")
    ticket.status = action.to_state
    return before


def apply(
    actor: User | None,
    ticket: Ticket,
    name: str,
    *,
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    days: int = 0,
    policies: sla.Policies | None = None,
    changes: derived.Changes | None = None,
) -> TicketEvent:
    """Take action `name` on `ticket`: check the right (`require`; `actor` None is the system:
    a job, the citizen's text), the state and the version (`check`), move the state (`move`),
    do to the clocks what the table says, write the event, bring the derived data in step (the
    search document, the report day: `derived`) and commit (a ticket changed by someone else
    meanwhile: Conflict, nothing kept).

    The service that calls it has done its own part before: read and checked its input (after
    `require`, so that one who may not act learns nothing from the answer), set the ticket's
    other fields, written its own rows (a request, a decision). `data` is the event's; the
    clocks add theirs (`sla`, or the deadlines moved). `days`: the working days an extension
    grants. `policies`: the SLA policies, loaded once for a batch. `changes`: the caller's, who
    brings them in step and commits (`commit`: a rating that closes or reopens the ticket in
    the same transaction; a batch, at once)."""
    action = ACTIONS[name]
    if actor is not None:
        require(actor, ticket, name)
    check(ticket, name, expected_version)
    now = at or utcnow()
    data = dict(data or {})
    before = ticket.status
    with db.session.no_autoflush:  # the policy and calendar look-ups must not flush the half-changed ticket
        data |= _CLOCKS[action.clocks](ticket, now, days, policies)
    if action.to_state is not None:
        move(ticket, name)
        event = record_event(ticket, actor, action.event_kind, before, ticket.status, data, at=now)
    else:
        event = record_event(ticket, actor, action.event_kind, None, None, data, at=now)
    # -- duty rota (值班, issue 17 item 4): the one place a ticket is handed to a unit; an urgent
    # one out of office hours alerts its person on duty once this transaction commits.
    if action.to_state == Status.DISPATCHED and name != "subdispatch":  # the id is set only at the flush
        # (a ticket sent down reaches its sub-unit in `tree.subdispatch`, which calls the same hook)
        duty.ticket_reached_unit(ticket, ticket.department.id if ticket.department else ticket.department_id, now)
    if name in LEAVES_CHAIN:  # units in a tree (issue 17)
        end_chain(ticket, now, handler=name not in ("resolve", "review"))
    pending = changes if changes is not None else derived.Changes()
    handed = action.to_state in _HANDED or name in CHAIN_MOVES or name in LEAVES_CHAIN
    pending.add(ticket, words=action.event_kind in ticket_search.WORDED_EVENTS, scopes=handed)
    if changes is None:
        commit(ticket, pending)
        duty.kick_after_commit()  # duty rota (值班): an alert started above
    return event


def commit(ticket: Ticket, changes: derived.Changes) -> Ticket:
    """Bring the changes in step and commit; if someone else changed the ticket since it was
    loaded, Conflict, and nothing is kept."""
    with conflict_if_stale(ticket):
        changes.keep_in_step()  # flushes: a stale ticket may be found here already
        db.session.commit()
    return ticket


# The states an action that hands the ticket to a department, or takes it back, leads to: its
# search scopes (the departments that may find it) change with it.
_HANDED = (Status.DISPATCHED, Status.PENDING_DISPATCH)
# Units in a tree (issue 17): the actions that open or close a hold down the chain change who may
# find the ticket too (its scopes name every unit of its open chain).
CHAIN_MOVES = frozenset({"subdispatch", "return_up", "reply_up", "refuse_reply", "approve_reply_up", "review"})


def _start(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    return {"sla": sla.start_clocks(ticket, now, policies)}


def _stop_accept(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    if ticket.accepted_at is None:  # a unit it was sent down to signs too: the city's accept is the first
        ticket.accepted_at = now
    ticket.sla_level = sla.level_at(ticket, now)  # the accept clock no longer counts
    return {}


def _stop(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    sla.stop_clocks(ticket)
    return {}


def _finish(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    ticket.paused_at = None
    return {}


def _pause(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    ticket.paused_at = now
    return {}


def _resume(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    return sla.resume_clocks(ticket, now)


def _extend(ticket: Ticket, now: datetime, days: int, policies: sla.Policies | None) -> dict[str, Any]:
    return sla.extend_resolve_clock(ticket, days, now)


_CLOCKS = {
    KEEP: lambda ticket, now, days, policies: {},
    START: _start,
    STOP_ACCEPT: _stop_accept,
    STOP: _stop,
    FINISH: _finish,
    PAUSE: _pause,
    RESUME: _resume,
    EXTEND: _extend,
}


def replay(ticket: Ticket, status: str) -> None:
    """Set the state a history being replayed has reached (the demo data's stories), where the
    actions' checks do not apply: the events are written as they happened, not taken now."""
    if status not in Status.ALL:
        raise ValueError(f"unknown status {status}")
    ticket.status = status


def allowed(actor: User, ticket: Ticket, known: dict[str, bool] | None = None) -> list[str]:
    """The actions `actor` may take on `ticket` now, in the table's order (the system's own
    and the variants that another action's route takes are left out). `known`: relations and
    conditions the caller has already looked up (a page of tickets), so as not to ask again."""
    facts = _Facts(actor, ticket, known)
    return [
        action.name
        for action in ACTIONS.values()
        if action.listed
        and action.roles
        and ticket.status in action.from_states
        and actor.role in action.roles
        and all(facts.relation(relation) for relation in action.relations)
        and (not action.needs or facts.holds(action.needs))
    ]


def may(actor: User, ticket: Ticket, name: str) -> bool:
    return name in allowed(actor, ticket)


def known_facts(
    actor: User,
    *,
    pending_extension: bool | None = None,
    pending_return: bool | None = None,
    assists: list[TicketAssist] | None = None,
) -> dict[str, bool]:
    """The facts `allowed` needs, from what a caller has already loaded (None: not loaded)."""
    known: dict[str, bool] = {}
    if pending_extension is not None:
        known |= {PENDING_EXTENSION: pending_extension, NO_PENDING_EXTENSION: not pending_extension}
    if pending_return is not None:
        known |= {PENDING_RETURN: pending_return, NO_PENDING_RETURN: not pending_return}
    if assists is not None:
        known[ASSISTING] = actor.role == Role.DEPARTMENT and any(
            a.department_id == actor.department_id and a.status == TicketAssist.OPEN for a in assists
        )
    return known


class _Facts:
    """What the table's relations and conditions ask of one actor and ticket, each looked up
    at most once (most tickets need none: the state and role rule them out first)."""

    def __init__(self, actor: User, ticket: Ticket, known: dict[str, bool] | None = None) -> None:
        self.actor, self.ticket = actor, ticket
        self._found: dict[str, bool] = dict(known or {})

    def relation(self, name: str) -> bool:
        return self._cached(name, _RELATIONS[name])

    def holds(self, name: str) -> bool:
        return self._cached(name, _CONDITIONS[name])

    def _cached(self, name: str, rule) -> bool:
        if name not in self._found:
            self._found[name] = rule(self.actor, self.ticket)
        return self._found[name]


def _holding(actor: User, ticket: Ticket) -> bool:
    holder = access.holder_id(ticket)
    return actor.role == Role.DEPARTMENT and holder is not None and holder == actor.department_id


# --- Units in a tree (issue 17) ------------------------------------------------------------------


def open_holds(ticket: Ticket) -> list[TicketHold]:
    """The ticket's holds still open, from the top of its chain down."""
    if ticket.id is None:
        return []
    query = select(TicketHold).where(TicketHold.ticket_id == ticket.id, TicketHold.ended_at.is_(None))
    # No autoflush: inside `apply` the ticket is half-changed, and its version-checked UPDATE must
    # reach the database in `commit`, where a concurrent change becomes a Conflict, not here.
    with db.session.no_autoflush:
        return list(db.session.scalars(query.order_by(TicketHold.id)))


def end_chain(ticket: Ticket, now: datetime, *, handler: bool = True) -> None:
    """The ticket leaves its chain: every open hold ends, the city's unit holds it (`handler`:
    and no one handles it, as it went to another unit or the desk)."""
    for hold in open_holds(ticket):
        hold.ended_at, hold.outcome = now, hold.outcome or HoldOutcome.WITHDRAWN
    ticket.holder_id = None
    if handler:
        ticket.handler_id = None


def _dispatched_to(actor: User, ticket: Ticket) -> bool:
    return (
        actor.role == Role.DEPARTMENT
        and ticket.department_id is not None
        and ticket.department_id == actor.department_id
    )


def _above(actor: User, ticket: Ticket) -> bool:
    if actor.role != Role.DEPARTMENT or actor.department_id is None or ticket.holder_id is None:
        return False
    if actor.department_id == ticket.holder_id:
        return False
    return actor.department_id == ticket.department_id or any(
        hold.department_id == actor.department_id for hold in open_holds(ticket)
    )


def _unit_lead(actor: User, ticket: Ticket) -> bool:
    return actor.role == Role.DEPARTMENT and actor.is_unit_lead


def _with_sub_units(actor: User, ticket: Ticket) -> bool:
    if actor.role != Role.DEPARTMENT or actor.department_id is None:
        return False
    return (
        db.session.scalar(select(Department.id).where(Department.parent_id == actor.department_id).limit(1)) is not None
    )


def pending_reply(ticket: Ticket) -> TicketHold | None:
    """The hold whose reply waits for the review of the unit holding the ticket now."""
    return next((hold for hold in open_holds(ticket) if hold.outcome == HoldOutcome.REPLIED), None)


def _assist_status(actor: User, ticket: Ticket) -> str | None:
    """The status of the actor's department's assist on the ticket, None if it has none."""
    if actor.role != Role.DEPARTMENT or ticket.id is None:
        return None
    return db.session.scalar(
        select(TicketAssist.status).where(
            TicketAssist.ticket_id == ticket.id, TicketAssist.department_id == actor.department_id
        )
    )


def _assisting(actor: User, ticket: Ticket) -> bool:
    return _assist_status(actor, ticket) == TicketAssist.OPEN


def _assists(actor: User, ticket: Ticket) -> bool:
    return _assist_status(actor, ticket) is not None


def _pending(model, ticket: Ticket) -> bool:
    if ticket.id is None:
        return False
    found = db.session.scalar(select(model.id).where(model.ticket_id == ticket.id, model.status == model.PENDING))
    return found is not None


_RELATIONS = {
    HOLDING: _holding,
    ASSISTING: _assisting,
    VISIBLE: access.can_see,
    # Units in a tree (issue 17)
    DISPATCHED_TO: _dispatched_to,
    ABOVE: _above,
    UNIT_LEAD: _unit_lead,
    WITH_SUB_UNITS: _with_sub_units,
}
_TREE_REFUSALS = {
    DISPATCHED_TO: lambda: _("Only the unit the ticket was dispatched to may do this; return it up instead."),
    ABOVE: lambda: _("Only a unit above the one holding this ticket may do this."),
    UNIT_LEAD: lambda: _("Only the unit lead may do this."),
    WITH_SUB_UNITS: lambda: _("Your unit has no sub-units."),
}
_CONDITIONS = {
    PENDING_EXTENSION: lambda actor, ticket: _pending(ExtensionRequest, ticket),
    NO_PENDING_EXTENSION: lambda actor, ticket: not _pending(ExtensionRequest, ticket),
    PENDING_RETURN: lambda actor, ticket: _pending(ReturnRequest, ticket),
    NO_PENDING_RETURN: lambda actor, ticket: not _pending(ReturnRequest, ticket),
    # Units in a tree (issue 17)
    SENT_DOWN: lambda actor, ticket: ticket.holder_id is not None,
    PENDING_REVIEW: lambda actor, ticket: pending_reply(ticket) is not None,
    NO_PENDING_REVIEW: lambda actor, ticket: pending_reply(ticket) is None,
}
