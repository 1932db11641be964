"""RQ worker entry point: `python -m workers.worker [--queue urgent|bulk|both] [--burst] [--no-scheduler]`.

Creates the app, pushes its context for the jobs, and runs a worker with the scheduler
(retries with intervals and the periodic jobs need it). Run one worker (or more) per queue:
`--queue urgent` for routing, texts and the sweep ("hotline"), `--queue bulk` for report
rebuilds, hotspots and training ("hotline-bulk"), so that a long bulk job never delays a
ticket. The default, both queues in that order, suits tests and a one-process setup only: a
worker runs one job at a time, and a rebuild it has started holds up every ticket behind it.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from redis.exceptions import RedisError  # noqa: E402
from rq import SimpleWorker, Worker  # noqa: E402

from hotline import create_app  # noqa: E402
from hotline.extensions import db, jobs  # noqa: E402
from hotline.tasks import routing, schedule, suggestions  # noqa: E402


class HotlineWorker(Worker):
    """Each job runs in a forked child: give it fresh database connections."""

    def fork_work_horse(self, *args, **kwargs):
        # What the worker loads before forking, each work horse inherits instead of loading it
        # again for every job (the suggestion model alone costs a cold horse over a second).
        routing.warm_up()
        return super().fork_work_horse(*args, **kwargs)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        keep_periodic_jobs(self)

    def main_work_horse(self, *args, **kwargs):
        db.engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)


class HotlineSimpleWorker(SimpleWorker):
    """`--simple`: jobs run in the worker's process; the periodic jobs are kept as above."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        keep_periodic_jobs(self)


def keep_periodic_jobs(worker: Worker) -> None:
    """Each run schedules the next; if Redis lost it (restarted without persistence), every
    worker's maintenance (every minute) schedules it again, for the queues it listens to;
    not a worker started with --no-scheduler (`periodic` False)."""
    if not getattr(worker, "periodic", True):
        return
    try:
        schedule.ensure_all(worker.queues)
    except RedisError as error:
        worker.log.warning("could not check the periodic jobs' schedule: %s", error)


QUEUES = {"urgent": "the urgent queue", "bulk": "the bulk queue", "both": "both, urgent first"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", choices=QUEUES, default="both", help="the queue(s) to work on (default: both)")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--simple", action="store_true", help="run jobs in this process, without forking")
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="no scheduler and no periodic jobs (benchmarks: the sweep must not race what they enqueue)",
    )
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        if jobs.queue is None or jobs.bulk_queue is None:
            raise SystemExit("REDIS_URL is not set: the worker needs Redis")
        queues = {"urgent": [jobs.queue], "bulk": [jobs.bulk_queue], "both": jobs.queues}[args.queue]
        if args.queue == "bulk" and app.config["HOTLINE_BULK_NICE"]:
            # Bulk work yields the CPU to requests and urgent jobs on a shared machine; the
            # work horses it forks inherit the priority.
            os.nice(app.config["HOTLINE_BULK_NICE"])
        if not args.no_scheduler:
            schedule.ensure_all(queues, starting=True)
        suggestions.retrain_if_stale()  # a model from before an upgrade of the word segmenter
        worker_class = HotlineSimpleWorker if args.simple else HotlineWorker
        # Maintenance every minute rather than every 10 (and an idle worker waking every minute
        # rather than every 7 to do it): maintenance moves a job whose worker was killed (its
        # heartbeat lapses after ~90 s) on to its retry, and takes over a killed worker's
        # scheduler (its lock lapses after ~60 s), without which the periodic jobs stop.
        worker = worker_class(queues, connection=jobs.connection, maintenance_interval=60, worker_ttl=75)
        worker.periodic = not args.no_scheduler
        worker.work(burst=args.burst, with_scheduler=not args.no_scheduler)


if __name__ == "__main__":
    main()
