"""The periodic sweep, run by a real worker process on the real Redis (TEST_REDIS_URL).

`sweep` re-enqueues tickets still waiting for routing, turns SLA clocks amber (75 % used) and
red (overdue) with one notice per level; its next run waits, scheduled, under an id of its own
(one sweep at a time). `refresh_reports`, on the bulk queue, keeps the report days in step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Notice, Role, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.clocks.calendar import work_calendar
from hotline.services.ticketing import deadlines, tickets
from hotline.tasks import schedule
from hotline.tasks.sweep import refresh_reports, sweep
from tests import factories
from tests.workers import empty_queue, run_burst_worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def set_clocks(ticket: Ticket, amber: datetime, due: datetime) -> None:
    """Both clocks (accept and resolve) turn amber and fall due at these moments."""
    ticket.accept_amber_at = ticket.resolve_amber_at = amber
    ticket.accept_due_at = ticket.resolve_due_at = due


def test_the_sweep_turns_clocks_amber_and_red_notifies_once_and_reschedules_itself(city, queue: Queue) -> None:
    now = utcnow()
    made = {name: factories.make_routed_ticket(city.operator) for name in ("overdue", "near", "far", "waiting")}
    made["amber_before"] = factories.make_routed_ticket(city.operator)
    for ticket in made.values():
        assert ticket.status == Status.DISPATCHED and ticket.department == city.roads
    set_clocks(made["overdue"], now - timedelta(days=2), now - timedelta(hours=1))
    set_clocks(made["near"], now - timedelta(minutes=10), now + timedelta(hours=1))  # past 75 %
    set_clocks(made["far"], now + timedelta(days=2), now + timedelta(days=3))
    set_clocks(made["amber_before"], now - timedelta(hours=1), now + timedelta(hours=1))
    made["amber_before"].sla_level = "amber"  # an earlier sweep announced it already
    db.session.commit()
    # Waiting on the citizen: the clocks are stopped, so an overdue-looking one is left alone.
    tickets.accept(city.roads_staff, made["waiting"])
    deadlines.wait_on_citizen(city.roads_staff, made["waiting"], "请提供现场照片。")
    set_clocks(made["waiting"], now - timedelta(days=2), now - timedelta(hours=1))
    db.session.commit()
    waiting_new = factories.make_ticket(city.operator)  # still new: Redis was there, but no worker yet
    empty_queue(queue)  # its hand-over is lost (as if Redis had been down): the sweep's grace has not passed

    job = queue.enqueue(sweep)
    output = run_burst_worker()

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, output
    result = job.return_value()
    assert (result["requeued"], result["amber"], result["red"]) == (0, 1, 1)
    levels = {name: db.session.get(Ticket, ticket.id).sla_level for name, ticket in made.items()}
    assert levels == {"overdue": "red", "near": "amber", "far": "", "waiting": "", "amber_before": "amber"}
    assert db.session.get(Ticket, waiting_new.id).status == Status.NEW  # created under 2 minutes ago

    notices = db.session.scalars(select(Notice).order_by(Notice.id)).all()
    assert len(notices) == 3
    assert {(n.kind, n.ticket_id, n.department_id, n.role) for n in notices} == {
        ("sla_red", made["overdue"].id, city.roads.id, None),  # the department
        ("sla_red", made["overdue"].id, None, Role.SUPERVISOR),  # and the supervisors
        ("sla_amber", made["near"].id, city.roads.id, None),
    }
    for notice in notices:  # shown in office hours only
        assert notice.show_from == work_calendar().next_office_time(notice.created_at)

    # The next sweep waits, scheduled, under an id of its own (the worker's start-up scheduled
    # it; the sweep, finding it there, added none).
    next_id = _next_sweep(queue)
    assert next_id != job.id and next_id in queue.scheduled_job_registry.get_job_ids(), output
    again = Job.fetch(next_id, connection=queue.connection)
    assert again.func_name == "hotline.tasks.sweep.sweep"
    assert again.enqueue_at_front  # when due, ahead of whatever piled up
    due = queue.scheduled_job_registry.get_scheduled_time(next_id)
    assert job.started_at - timedelta(seconds=1) <= due <= utcnow() + schedule.sweep_every()

    # The next sweep, run now rather than in a minute: nothing new to announce, and the one
    # after it scheduled, under another id, after its own due time.
    queue.scheduled_job_registry.requeue(next_id)
    output = run_burst_worker()
    again.refresh()
    assert again.get_status() == JobStatus.FINISHED, output
    result = again.return_value()
    assert (result["requeued"], result["amber"], result["red"]) == (0, 0, 0)
    assert len(db.session.scalars(select(Notice)).all()) == 3
    third = _next_sweep(queue)
    assert third not in (job.id, next_id) and third in queue.scheduled_job_registry.get_job_ids()
    assert queue.scheduled_job_registry.get_scheduled_time(third) > due


def _next_sweep(queue: Queue) -> str:
    return queue.connection.get(schedule.pointer_key(queue, schedule.BY_NAME["sweep"])).decode()


def test_the_reports_job_builds_first_then_refreshes_changed_days_on_the_bulk_queue(
    city, queue: Queue, bulk_queue: Queue
) -> None:
    from hotline.models import ReportDirtyDay, ReportFact
    from hotline.services.reporting import report_figures

    ticket = factories.make_routed_ticket(city.operator)
    assert report_figures.needs_rebuild()
    job = bulk_queue.enqueue(refresh_reports)
    output = run_burst_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, output
    assert job.return_value()["rebuilt"] == 1
    db.session.expire_all()
    assert not report_figures.needs_rebuild()
    assert db.session.scalar(select(ReportFact.received).where(ReportFact.dim == "all")) == 1

    tickets.accept(city.roads_staff, db.session.get(Ticket, ticket.id))
    factories.make_routed_ticket(city.operator)
    job = bulk_queue.enqueue(refresh_reports)
    output = run_burst_worker()
    job.refresh()
    assert job.return_value() == {"rebuilt": 0, "report_days": 1}, output
    db.session.expire_all()
    assert db.session.scalar(select(ReportDirtyDay.day)) is None
    row = db.session.scalars(select(ReportFact).where(ReportFact.dim == "all")).one()
    assert (row.received, row.accepted) == (2, 1)
