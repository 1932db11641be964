"""The periodic jobs (hotline.tasks.schedule): each run is a job with an id of its own, so the
next run survives the previous one's hash expiring (RQ's result TTL), which lost the hourly
hotspot job after its first run. Each run schedules the next; every worker's maintenance
(every minute) schedules a run lost with Redis, and adds none while one waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from hotline.extensions import jobs
from hotline.models.types import utcnow
from hotline.tasks import schedule
from tests.workers import run_burst_worker, running_worker, wait_until
from workers.worker import HotlineWorker

pytestmark = [pytest.mark.redis]

ENTRIES = [entry.name for entry in schedule.PERIODIC]


def _latest(entry: schedule.Periodic) -> str | None:
    queue = schedule.queue_for(entry)
    latest = queue.connection.get(schedule.pointer_key(queue, entry))
    return latest.decode() if latest else None


def _maintenance() -> None:
    HotlineWorker(jobs.queues, connection=jobs.connection).run_maintenance_tasks()


def test_the_table_puts_urgent_and_bulk_work_on_their_queues(queue: Queue, bulk_queue: Queue) -> None:
    assert {entry.name: schedule.queue_for(entry).name for entry in schedule.PERIODIC} == {
        "sweep": queue.name,
        "reports": bulk_queue.name,
        "hotspots": bulk_queue.name,
        "training": bulk_queue.name,
    }
    assert (queue.name, bulk_queue.name) == ("hotline", "hotline-bulk")


def test_maintenance_schedules_every_lost_run_again_once(queue: Queue, bulk_queue: Queue) -> None:
    assert all(_latest(entry) is None for entry in schedule.PERIODIC)  # Redis restarted empty
    _maintenance()
    ids = {entry.name: _latest(entry) for entry in schedule.PERIODIC}
    for entry in schedule.PERIODIC:
        job = Job.fetch(ids[entry.name], connection=queue.connection)
        assert job.get_status() == JobStatus.SCHEDULED and job.func_name == entry.func
        assert job.origin == schedule.queue_for(entry).name
    _maintenance()  # a second worker, or the next minute: nothing added, nothing moved
    assert {entry.name: _latest(entry) for entry in schedule.PERIODIC} == ids
    assert sorted(queue.scheduled_job_registry.get_job_ids() + bulk_queue.scheduled_job_registry.get_job_ids()) == (
        sorted(ids.values())
    )


@pytest.mark.parametrize("name", ENTRIES)
def test_the_second_and_third_runs_come_after_each_previous_one_expired(name: str, queue: Queue) -> None:
    """Time moved by hand: each run, when it starts, schedules the next after its own due time;
    the previous run's hash then expires (deleted here, as RQ's result TTL does) and the next
    run is still there, under its own id. A run whose own scheduling failed is made up by
    maintenance."""
    entry = schedule.BY_NAME[name]
    connection = queue.connection
    first = schedule.ensure(entry, now=utcnow())
    runs = [first]
    for _ in range(2):
        job = Job.fetch(runs[-1], connection=connection)
        registry = schedule.queue_for(entry).scheduled_job_registry
        due = registry.get_scheduled_time(job.id)
        registry.remove(job)  # the scheduler enqueued it at its time,
        job.set_status(JobStatus.STARTED)  # and a worker took it
        following = schedule.ensure(entry, now=due + timedelta(seconds=1), after=due)  # what `chain` does
        assert following not in runs
        job.set_status(JobStatus.FINISHED)
        connection.delete(job.key)  # its result TTL passed
        assert Job.fetch(following, connection=connection).get_status() == JobStatus.SCHEDULED
        assert schedule.queue_for(entry).scheduled_job_registry.get_scheduled_time(following) > due
        runs.append(following)
    assert len(set(runs)) == 3

    # A run that could not schedule the next (Redis hiccup) and expired: maintenance does it.
    last = Job.fetch(runs[-1], connection=connection)
    schedule.queue_for(entry).scheduled_job_registry.remove(last)
    connection.delete(last.key)
    _maintenance()
    assert _latest(entry) not in (None, last.id)
    assert Job.fetch(_latest(entry), connection=connection).get_status() == JobStatus.SCHEDULED


def test_a_run_waiting_in_the_queue_keeps_others_out(queue: Queue, bulk_queue: Queue) -> None:
    """A bulk worker busy with a rebuild for twenty minutes: the report refresh due meanwhile
    waits in the queue, once, not once per minute."""
    entry = schedule.BY_NAME["reports"]
    waiting = schedule.ensure(entry)
    bulk_queue.scheduled_job_registry.requeue(waiting)  # due: the scheduler moved it to the queue
    for minutes in range(1, 4):
        assert schedule.ensure(entry, now=utcnow() + timedelta(minutes=minutes)) == waiting
    assert bulk_queue.job_ids == [waiting] and bulk_queue.scheduled_job_registry.get_job_ids() == []


@pytest.mark.worker
def test_a_real_worker_runs_the_sweep_again_and_again_though_each_run_expires(app, queue: Queue, tmp_path) -> None:
    """A worker on the urgent queue, a sweep every second, and each finished sweep's hash
    deleted as soon as it is seen (a result TTL of nothing): the sweeps go on."""
    log = tmp_path / "worker.log"
    seen: set[str] = set()

    def three_sweeps() -> bool:
        for job_id in queue.finished_job_registry.get_job_ids():
            if job_id.startswith("hotline-sweep-") and job_id not in seen:
                seen.add(job_id)
                queue.connection.delete(Job.key_for(job_id))
        return len(seen) >= 3

    with running_worker("--queue", "urgent", log=log, HOTLINE_SWEEP_SECONDS="1"):
        wait_until(three_sweeps, "three sweeps", timeout=40)
    output = log.read_text()
    assert len(seen) >= 3, output
    assert output.count("Job OK (hotline-sweep-") >= 3, output


def test_sweeps_do_not_pile_up_send_jobs_for_a_waiting_text(app, city, queue: Queue, monkeypatch) -> None:
    from hotline.services.ticketing import recovery
    from tests import factories, fake_twilio

    with fake_twilio.running(app, monkeypatch):
        factories.make_ticket(city.operator)
        first, second = recovery.requeue(), recovery.requeue()
    assert (first.messages_waiting, first.messages_enqueued) == (1, 1)
    assert (second.messages_waiting, second.messages_enqueued) == (1, 0)  # the sweep's job still waits
    sends = [job for job in queue.jobs if job.func_name.endswith("send_message")]
    assert len(sends) == 1  # the first sweep's (intake's goes through a drain), not one more per sweep


@pytest.mark.worker
def test_a_worker_without_the_scheduler_schedules_no_periodic_job(app, queue: Queue, bulk_queue: Queue) -> None:
    """`--no-scheduler` (benchmarks/routing_backlog.py): its sweep would enqueue the backlog
    the benchmark enqueues itself. The worker runs what is queued, and schedules nothing."""
    job = queue.enqueue(len, [])
    output = run_burst_worker("--no-scheduler")
    assert Job.fetch(job.id, connection=queue.connection).get_status() == JobStatus.FINISHED, output
    assert all(_latest(entry) is None for entry in schedule.PERIODIC), output
    assert queue.scheduled_job_registry.get_job_ids() == bulk_queue.scheduled_job_registry.get_job_ids() == []
