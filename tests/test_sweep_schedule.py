"""The periodic sweep stays one chain and survives Redis losing it: each worker's maintenance
(every minute) schedules it again when it is neither scheduled nor queued nor running, and
leaves a scheduled one alone, though RQ marks a sweep that rescheduled itself as finished."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from hotline.jobs import SWEEP_JOB_ID, schedule_sweep
from workers.worker import HotlineWorker

pytestmark = [pytest.mark.redis]


def _due(queue: Queue) -> float | None:
    return queue.connection.zscore(queue.scheduled_job_registry.key, SWEEP_JOB_ID)


def test_maintenance_schedules_a_lost_sweep_again(queue: Queue) -> None:
    assert _due(queue) is None  # Redis restarted empty: no sweep anywhere
    HotlineWorker([queue], connection=queue.connection).run_maintenance_tasks()
    assert _due(queue) is not None
    assert Job.fetch(SWEEP_JOB_ID, connection=queue.connection).get_status() == JobStatus.SCHEDULED


def test_maintenance_leaves_a_scheduled_sweep_alone(queue: Queue) -> None:
    schedule_sweep()
    due = _due(queue)
    # What RQ does after the sweep job that rescheduled itself returns: the same id is marked finished.
    job = Job.fetch(SWEEP_JOB_ID, connection=queue.connection)
    job.set_status(JobStatus.FINISHED)
    for _ in range(2):  # two workers
        HotlineWorker([queue], connection=queue.connection).run_maintenance_tasks()
    assert _due(queue) == due  # not pushed back, not doubled
    assert queue.scheduled_job_registry.get_job_ids() == [SWEEP_JOB_ID]


def test_maintenance_replaces_a_scheduled_id_whose_job_expired(queue: Queue) -> None:
    schedule_sweep()
    queue.connection.delete(Job.key_for(SWEEP_JOB_ID))  # the job's hash expired, its id lingers
    HotlineWorker([queue], connection=queue.connection).run_maintenance_tasks()
    assert Job.fetch(SWEEP_JOB_ID, connection=queue.connection).get_status() == JobStatus.SCHEDULED


def test_sweeps_do_not_pile_up_send_jobs_for_a_waiting_text(app, city, queue: Queue, monkeypatch) -> None:
    from hotline.services import queueing
    from tests import factories, fake_twilio

    with fake_twilio.running(app, monkeypatch):
        factories.make_ticket(city.operator)
        first, second = queueing.requeue(), queueing.requeue()
    assert (first.messages_waiting, first.messages_enqueued) == (1, 1)
    assert (second.messages_waiting, second.messages_enqueued) == (1, 0)  # the sweep's job still waits
    sends = [job for job in queue.jobs if job.func_name.endswith("send_message_job")]
    assert len(sends) == 1  # the first sweep's (intake's goes through a drain), not one more per sweep
