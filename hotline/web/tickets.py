"""The ticket list (the department workbench for department staff), the ticket page and
its actions: accept (签收), resolve (办结), return (退单), note, dispatch (派单)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from hotline.bounds import whole_number
from hotline.extensions import db
from hotline.models import Category, Department, Role, Status, Ticket
from hotline.models.audit import ViewChannel
from hotline.models.types import utcnow
from hotline.services.accounts import access, audit
from hotline.services.citizens import citizen_contact
from hotline.services.citizens.phones import normalise_phone
from hotline.services.clocks import sla
from hotline.services.dispatch import ping_pong
from hotline.services.errors import InvalidInput, NotFound, ServiceError
from hotline.services.platform import listing
from hotline.services.ticketing import (
    assists,
    attachment_publicity,
    attachments,
    deadlines,
    lifecycle,
    merge_proposal,
    merging,
    returns,
    tickets,
    tree,
    workbench,
)
from hotline.web import tree_page  # units in a tree (issue 17)
from hotline.web.attachment_forms import AttachmentForm  # issue 18 item 5
from hotline.web.contact_forms import CallbackForm, CallCitizenForm, ContactForm, RevealPhoneForm
from hotline.web.forms import (
    AcceptForm,
    AssignForm,
    AssistDoneForm,
    DecisionForm,
    DispatchForm,
    ExtensionForm,
    MergeForm,
    NoteForm,
    ResolveForm,
    ResumeForm,
    ReturnForm,
    ReturnUpForm,
    ReviewForm,
    SubdispatchForm,
    UrgeForm,
    VersionedForm,
    WaitForm,
)
from hotline.web.guards import expired, roles_required, safe_next
from hotline.web.paging import BoundedPagination, bounded_paginate, page_number

bp = Blueprint("tickets", __name__)

PAGE_SIZE = 50
NARROW_PREFIX = 8  # a number's day, YYYYMMDD: a longer prefix matches at most a day's tickets


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    # access.ticket_for says "not found" for other departments' tickets too: no probing.
    return render_template("errors/error.html", code=404, message=error.message), 404


@bp.get("/tickets")
@roles_required()
def index():
    page = page_number()
    if current_user.role == Role.DEPARTMENT:
        return _workbench(page)
    query = access.visible_tickets(current_user)
    status = request.args.get("status", "")
    if status in Status.ALL:
        query = query.where(Ticket.status == status)
    department = request.args.get("department", "")
    if department:
        query = query.join(Department, Ticket.department_id == Department.id).where(Department.code == department)
    search = request.args.get("q", "").strip()
    if search:
        query = query.where(_search_clause(search))
    # Newest first down the created_at index; the total counted up to a bound (COUNT(*) of
    # every ticket grew with the years), the categories and departments in one query each.
    query = query.options(selectinload(Ticket.category), selectinload(Ticket.department))
    pagination = bounded_paginate(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()), page, PAGE_SIZE)
    departments = list(db.session.scalars(select(Department).order_by(Department.name)))
    html = render_template(
        "tickets/index.html",
        pagination=pagination,
        departments=departments,
        filters={"status": status, "department": department, "q": search},
        now=utcnow(),
    )
    audit.record_list(current_user, pagination.items, ViewChannel.LIST)  # the callers' numbers it shows
    return html


def _workbench(page: int):
    tab = request.args.get("tab", workbench.DEFAULT_TAB)
    if tab not in workbench.TABS:
        tab = workbench.DEFAULT_TAB
    tab_counts = workbench.tab_counts(current_user, listing.COUNT_CAP)
    found = workbench.tab_page(current_user, tab, page, PAGE_SIZE, listing.count_limit(page, PAGE_SIZE))
    pagination = BoundedPagination(found.items, found.total, found.more, page, PAGE_SIZE)
    html = render_template(
        "tickets/workbench.html", pagination=pagination, tab=tab, tab_counts=tab_counts, now=utcnow()
    )
    # Numbers are masked here: only confidential tickets' lines are recorded.
    audit.record_list(current_user, pagination.items, ViewChannel.LIST)
    return html


def _search_clause(search: str):
    """A ticket number (or its start), an imported ticket's id in its old system, or the
    caller's phone number in any usual spelling."""
    clauses = [Ticket.external_id == search]
    if len(search) >= NARROW_PREFIX:
        # Few tickets: a range down the number's index, in either case (numbers are upper case,
        # an imported one may not be). A shorter prefix matches many: the list's walk down
        # created_at finds a page of them at once, and a range would sort them all.
        clauses += [listing.starts_with(Ticket.number, prefix) for prefix in dict.fromkeys((search, search.upper()))]
    else:
        clauses.append(Ticket.number.startswith(search, autoescape=True))
    with contextlib.suppress(InvalidInput):  # not a phone number: search by number only
        clauses.append(Ticket.caller_phone == normalise_phone(search))
    return or_(*clauses)


@bp.get("/tickets/<number>")
@roles_required()
def show(number: str):
    ticket = same_moment(access.ticket_for(current_user, number))
    with_department = ticket.status in Status.WITH_DEPARTMENT
    pending = deadlines.pending_extension(ticket) if with_department else None
    return_request = returns.pending_request(ticket) if with_department else None
    ticket_assists = assists.of_ticket(ticket)
    known = lifecycle.known_facts(
        current_user,
        pending_extension=pending is not None,
        pending_return=return_request is not None,
        assists=ticket_assists,
    )
    forms = _action_cards(ticket, lifecycle.allowed(current_user, ticket, known))
    if forms["dispatch"] is not None and ticket.department is None and ticket.category.routing_department:
        forms["dispatch"].department.data = ticket.category.routing_department.code
    earlier = []
    if not access.masks_caller(current_user):
        earlier = [
            t for t in tickets.earlier_tickets(current_user, ticket.caller_phone, limit=11) if t.id != ticket.id
        ][:10]
    departments = {d.code: d.name for d in db.session.scalars(select(Department))}
    return_reasons = {r.code: r.name for r in returns.reasons()}
    returned_by = ping_pong.returned_by([ticket.id]).get(ticket.id, []) if forms["dispatch"] is not None else []
    keep = _merge_proposal(ticket, forms["merge"])
    now = utcnow()
    html = render_template(
        "tickets/show.html",
        ticket=ticket,
        forms=forms,
        pending=pending,
        return_request=return_request,
        earlier=earlier,
        departments=departments,
        return_reasons=return_reasons,
        returners=[(code, departments.get(code, code)) for code in returned_by],
        merge_proposal=keep,
        assists=ticket_assists,
        parent=access.shown(current_user, ticket.parent),  # None, as if none, if the user may not see it
        children=merging.children(current_user, ticket),
        # The tickets its merge events name, of those the user may see: the others stay unnamed.
        related=access.visible_numbers(current_user, merging.numbers_in_events(ticket)),
        used=sla.time_used(ticket, now) if ticket.status in Status.WITH_DEPARTMENT else None,
        contacts=citizen_contact.contacts_of(ticket),  # contact with the citizen (issue 17)
        contact_level=sla.contact_level(ticket, now),
        policy_category=_policy_category(ticket),
        return_window=returns.window_closes_at(ticket) if ticket.status in Status.WITH_DEPARTMENT else None,
        may_audit=current_user.has_role(*access.AUDIT_ROLES),
        now=now,
        tree=tree_page.context(ticket, forms),  # units in a tree (issue 17)
        attachments=attachments.of_ticket(ticket),  # issue 18 item 5
        attachment_form=AttachmentForm(formdata=None),
        may_publish=attachment_publicity.may_set(current_user, ticket),  # a photo public or not
    )
    # Recorded (and committed) before the page goes out: a view that cannot be recorded is not shown.
    audit.record_view(current_user, ticket, ViewChannel.PAGE)
    return html


@bp.get("/tickets/<number>/views")
@roles_required(*access.AUDIT_ROLES)
def views(number: str):
    """Who viewed this ticket's personal data: when, what, how, from where."""
    ticket = access.ticket_for(current_user, number)
    result = audit.views_of(ticket, page=page_number())
    return render_template("tickets/views.html", ticket=ticket, result=result)


def same_moment(ticket: Ticket) -> Ticket:
    """The ticket and its timeline read in one statement. Read one after the other, a routing
    committed in between (a worker routes a new ticket within a second of its intake) showed the
    header as new and unassigned above a timeline that said routed."""
    statement = (
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .options(joinedload(Ticket.events), joinedload(Ticket.department))
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(statement).unique().one()


def _merge_proposal(ticket: Ticket, form: VersionedForm | None) -> merge_proposal.Proposal | None:
    """For a dispatcher who may merge: the likely duplicate to merge this ticket into, if one
    should be kept rather than this one, filled in the merge form."""
    if form is None:
        return None
    duplicates = merging.find_duplicates(
        current_user, ticket.caller_phone, ticket.category, ticket.address, ticket.description, exclude_id=ticket.id
    )
    proposal = merge_proposal.proposed_parent(ticket, [likely.ticket for likely in duplicates])
    if proposal is not None:
        form.into.data = proposal.keep.number
    return proposal


def _policy_category(ticket: Ticket) -> Category | None:
    """The category whose SLA policy set the ticket's deadlines, when it was a category's."""
    source = (ticket.sla_terms or {}).get("source")
    if not source or source in ("default", "hotline"):
        return None
    return db.session.scalar(select(Category).where(Category.code == source))


# The card (a form on the ticket page) of each action of the lifecycle table; actions that
# share a card (a dispatch and a reassignment, the two decisions on a request) share a form.
ACTION_CARDS: dict[str, tuple[str, type[VersionedForm]]] = {
    "accept": ("accept", AcceptForm),
    "resolve": ("resolve", ResolveForm),
    "return": ("return", ReturnForm),
    "dispatch": ("dispatch", DispatchForm),
    "reassign": ("dispatch", DispatchForm),
    "notes": ("note", NoteForm),
    "wait": ("wait", WaitForm),
    "resume": ("resume", ResumeForm),
    "extend": ("extension", ExtensionForm),
    "approve_extension": ("decide", DecisionForm),
    "refuse_extension": ("decide", DecisionForm),
    "approve_return": ("decide_return", DecisionForm),
    "refuse_return": ("decide_return", DecisionForm),
    "urge": ("urge", UrgeForm),
    "merge": ("merge", MergeForm),
    "assist_done": ("assist_done", AssistDoneForm),
    # Contact with the citizen and callback (issue 17; hotline/web/contacts.py).
    "contact": ("contact", ContactForm),
    "call_citizen": ("call_citizen", CallCitizenForm),
    "reveal_phone": ("reveal_phone", RevealPhoneForm),
    "callback_call": ("callback_call", CallCitizenForm),
    "callback": ("callback", CallbackForm),
    # Units in a tree (issue 17): hotline/web/tree.py
    "subdispatch": ("subdispatch", SubdispatchForm),
    "return_up": ("return_up", ReturnUpForm),
    "review": ("review", ReviewForm),
    "assign": ("assign", AssignForm),
}


def _action_cards(ticket: Ticket, actions: list[str]) -> dict[str, VersionedForm | None]:
    """The forms of the actions the user may take now (`lifecycle.allowed`), None for the others."""
    forms: dict[str, VersionedForm | None] = dict.fromkeys((card for card, _form in ACTION_CARDS.values()), None)
    for name in actions:
        card, form_class = ACTION_CARDS[name]
        if forms[card] is None:
            forms[card] = form_class(data={"version": ticket.version})
    return forms


@bp.post("/tickets/<number>/accept")
@roles_required()
def accept(number: str):
    return _act(
        number,
        AcceptForm,
        lambda ticket, form, version: tickets.accept(current_user, ticket, expected_version=version),
        lambda ticket: _("Ticket %(number)s accepted.", number=ticket.number),
    )


@bp.post("/tickets/<number>/resolve")
@roles_required()
def resolve(number: str):
    return _act(
        number,
        ResolveForm,
        lambda ticket, form, version: tickets.resolve(
            current_user, ticket, form.resolution.data or "", expected_version=version
        ),
        lambda ticket: _("Ticket %(number)s resolved.", number=ticket.number),
    )


@bp.post("/tickets/<number>/return")
@roles_required()
def return_(number: str):
    return _act(
        number,
        ReturnForm,
        lambda ticket, form, version: tickets.return_to_dispatch(
            current_user, ticket, form.reason.data or "", expected_version=version, reason_code=form.reason_code.data
        ),
        _returned_message,
        # Handed back, the department no longer holds (nor sees) the ticket: back to the workbench.
        after=lambda ticket: (
            url_for("tickets.index")
            if ticket.status == Status.PENDING_DISPATCH
            else url_for("tickets.show", number=ticket.number)
        ),
    )


def _returned_message(ticket: Ticket) -> str:
    if ticket.status == Status.PENDING_DISPATCH:
        return _("Ticket %(number)s returned to the dispatcher.", number=ticket.number)
    # After the return window a return is a request that a supervisor decides.
    return _(
        "The return window has passed: your return of ticket %(number)s waits for a supervisor.", number=ticket.number
    )


@bp.post("/tickets/<number>/return/approve")
@roles_required(*access.SUPERVISE_ROLES)
def approve_return(number: str):
    return _act(
        number,
        DecisionForm,
        lambda ticket, form, version: returns.approve_return(
            current_user, ticket, form.note.data or "", expected_version=version
        ),
        lambda ticket: _("Return of ticket %(number)s approved: it waits for dispatch.", number=ticket.number),
    )


@bp.post("/tickets/<number>/return/refuse")
@roles_required(*access.SUPERVISE_ROLES)
def refuse_return(number: str):
    return _act(
        number,
        DecisionForm,
        lambda ticket, form, version: returns.refuse_return(
            current_user, ticket, form.note.data or "", expected_version=version
        ),
        lambda ticket: _("Return of ticket %(number)s refused.", number=ticket.number),
    )


@bp.post("/tickets/<number>/notes")
@roles_required()
def add_note(number: str):
    return _act(
        number,
        NoteForm,
        # A note changes no state, so the service takes any version.
        lambda ticket, form, version: tickets.add_note(current_user, ticket, form.text.data or ""),
        lambda ticket: _("Note added."),
    )


@bp.post("/tickets/<number>/dispatch")
@roles_required(*access.DISPATCH_ROLES)
def dispatch(number: str):
    return _act(
        number,
        DispatchForm,
        lambda ticket, form, version: tickets.dispatch(
            current_user,
            ticket,
            form.department.data or "",
            expected_version=version,
            assisting=[code for code in form.assisting.data or [] if code],
            reason=form.reason.data,
        ),
        lambda ticket: _(
            "Ticket %(number)s dispatched to %(department)s.", number=ticket.number, department=ticket.department.name
        ),
        # A dispatched confidential ticket is no longer the dispatcher's to see: back to the desk.
        after=lambda ticket: (
            safe_next(request.form.get("next"))
            or (
                url_for("tickets.show", number=ticket.number)
                if access.can_see(current_user, ticket)
                else url_for("dispatch.queue")
            )
        ),
    )


@bp.post("/tickets/<number>/merge")
@roles_required(*access.DISPATCH_ROLES)
def merge(number: str):
    """合并: a duplicate joins the ticket that answers for both; its clocks stop."""
    return _act(
        number,
        MergeForm,
        lambda ticket, form, version: merging.merge_into(
            current_user, ticket, form.into.data or "", expected_version=version
        ),
        lambda ticket: _(
            "Ticket %(number)s merged into %(parent)s.", number=ticket.number, parent=ticket.parent.number
        ),
    )


@bp.post("/tickets/<number>/assist-done")
@roles_required(Role.DEPARTMENT)
def assist_done(number: str):
    """An assisting department (协办) reports its part; the lead department still resolves."""
    return _act(
        number,
        AssistDoneForm,
        # The ticket's state does not change: any version is fine, as for a note.
        lambda ticket, form, version: assists.mark_done(current_user, ticket, form.reply.data or ""),
        lambda ticket: _("Your department’s part of ticket %(number)s is marked done.", number=ticket.number),
    )


@bp.post("/tickets/<number>/wait")
@roles_required()
def wait(number: str):
    return _act(
        number,
        WaitForm,
        lambda ticket, form, version: deadlines.wait_on_citizen(
            current_user, ticket, form.reason.data or "", expected_version=version
        ),
        lambda ticket: _("Ticket %(number)s waits on the citizen; its clocks are paused.", number=ticket.number),
    )


@bp.post("/tickets/<number>/resume")
@roles_required()
def resume(number: str):
    return _act(
        number,
        ResumeForm,
        lambda ticket, form, version: deadlines.resume(current_user, ticket, expected_version=version),
        lambda ticket: _("Ticket %(number)s is in progress again.", number=ticket.number),
    )


@bp.post("/tickets/<number>/extension")
@roles_required()
def request_extension(number: str):
    def action(ticket: Ticket, form: ExtensionForm, version: int) -> None:
        raw = (form.days.data or "").strip()
        # Not a whole number: 0 lets the service say what it accepts.
        days = whole_number(raw) or 0
        deadlines.request_extension(current_user, ticket, days, form.reason.data or "", expected_version=version)

    return _act(
        number,
        ExtensionForm,
        action,
        lambda ticket: _("Extension requested for ticket %(number)s.", number=ticket.number),
    )


@bp.post("/tickets/<number>/extension/approve")
@roles_required(*access.SUPERVISE_ROLES)
def approve_extension(number: str):
    return _act(
        number,
        DecisionForm,
        lambda ticket, form, version: deadlines.approve_extension(
            current_user, ticket, form.note.data or "", expected_version=version
        ),
        lambda ticket: _("Extension approved for ticket %(number)s.", number=ticket.number),
    )


@bp.post("/tickets/<number>/extension/refuse")
@roles_required(*access.SUPERVISE_ROLES)
def refuse_extension(number: str):
    return _act(
        number,
        DecisionForm,
        lambda ticket, form, version: deadlines.refuse_extension(
            current_user, ticket, form.note.data or "", expected_version=version
        ),
        lambda ticket: _("Extension refused for ticket %(number)s.", number=ticket.number),
    )


@bp.post("/tickets/<number>/urge")
@roles_required(*access.SUPERVISE_ROLES)
def urge(number: str):
    return _act(
        number,
        UrgeForm,
        # Urging changes no state a colleague could have moved: no version check, as for notes.
        lambda ticket, form, version: deadlines.urge(current_user, ticket, form.text.data or ""),
        lambda ticket: _("Ticket %(number)s urged.", number=ticket.number),
    )


def _act(
    number: str,
    form_class: type[VersionedForm],
    action: Callable[[Ticket, FlaskForm, int], object],
    success: Callable[[Ticket], str],
    after: Callable[[Ticket], str] | None = None,
) -> Response:
    """Run one ticket action from its form: the service checks right, state and version;
    any refusal is flashed and nothing changes."""
    ticket = access.ticket_for(current_user, number)
    form = form_class()
    back = safe_next(form.next.data) or url_for("tickets.show", number=ticket.number)
    if refused := expired(form, back):
        return refused
    try:
        version = int(form.version.data or "")
    except ValueError:
        flash(_("The form is out of date; reload the page and try again."), "danger")
        return redirect(back)
    try:
        action(ticket, form, version)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    flash(success(ticket), "success")
    return redirect(after(ticket) if after else back)


# --- Units in a tree (issue 17): services/ticketing/tree.py -----------------------------------------------


@bp.post("/tickets/<number>/subdispatch")
@roles_required(Role.DEPARTMENT)
def subdispatch(number: str):
    return _act(
        number,
        SubdispatchForm,
        lambda ticket, form, version: tree.subdispatch(
            current_user, ticket, form.department.data, form.due.data or None, form.note.data, expected_version=version
        ),
        lambda ticket: _("Ticket %(number)s sent down to %(unit)s.", number=ticket.number, unit=ticket.holder.name),
    )


@bp.post("/tickets/<number>/return-up")
@roles_required(Role.DEPARTMENT)
def return_up(number: str):
    return _act(
        number,
        ReturnUpForm,
        lambda ticket, form, version: tree.return_up(
            current_user, ticket, form.reason.data or "", expected_version=version
        ),
        lambda ticket: _("Ticket %(number)s returned up.", number=ticket.number),
        # Handed back, the unit no longer holds (nor sees) the ticket: back to the workbench.
        after=lambda ticket: url_for("tickets.index"),
    )


@bp.post("/tickets/<number>/review")
@roles_required(Role.DEPARTMENT)
def review(number: str):
    decision = {"approve": True, "refuse": False}.get(request.form.get("decision", ""))
    return _act(
        number,
        ReviewForm,
        lambda ticket, form, version: tree.review(
            current_user, ticket, decision, form.reason.data or "", expected_version=version
        ),
        lambda ticket: (
            _("Reply to ticket %(number)s approved.", number=ticket.number)
            if decision
            else _("Reply to ticket %(number)s refused.", number=ticket.number)
        ),
    )


@bp.post("/tickets/<number>/assign")
@roles_required(Role.DEPARTMENT)
def assign(number: str):
    return _act(
        number,
        AssignForm,
        lambda ticket, form, version: tree.assign(current_user, ticket, form.handler.data, expected_version=version),
        lambda ticket: _("%(name)s handles ticket %(number)s.", name=ticket.handler.label, number=ticket.number),
    )
