"""RQ worker entry point: `python -m workers.worker [--burst]`.

Creates the app, pushes its context for the jobs, and runs a worker with the
scheduler (retries with intervals and the periodic sweep need it).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rq import SimpleWorker, Worker  # noqa: E402
from rq.job import Job  # noqa: E402

from hotline import create_app  # noqa: E402
from hotline.extensions import db, jobs  # noqa: E402


class HotlineWorker(Worker):
    """Each job runs in a forked child: give it fresh database connections."""

    def fork_work_horse(self, *args, **kwargs):
        # What the worker loads before forking, each work horse inherits instead of loading it
        # again for every job (the suggestion model alone costs a cold horse over a second).
        from hotline.jobs import warm_up

        warm_up()
        return super().fork_work_horse(*args, **kwargs)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        # The sweep schedules itself; if Redis lost it (restarted without persistence), every
        # worker's maintenance (every minute) schedules it again. Its fixed job id keeps it one.
        from redis.exceptions import RedisError

        from hotline.jobs import SWEEP_JOB_ID, _pending, schedule_sweep

        try:
            queue = jobs.queue
            # The registry too: a sweep that rescheduled itself is marked finished by RQ afterwards
            # (same job id), though it waits in the scheduled registry, as it should.
            scheduled = SWEEP_JOB_ID in queue.scheduled_job_registry and queue.connection.exists(
                Job.key_for(SWEEP_JOB_ID)
            )
            if not scheduled and not _pending(queue, SWEEP_JOB_ID):
                self.log.warning("the periodic sweep was not scheduled (Redis lost it?): scheduling it again")
                schedule_sweep()
        except RedisError as error:
            self.log.warning("could not check the sweep's schedule: %s", error)

    def main_work_horse(self, *args, **kwargs):
        db.engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--simple", action="store_true", help="run jobs in this process, without forking")
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        if jobs.queue is None:
            raise SystemExit("REDIS_URL is not set: the worker needs Redis")
        from hotline.hotspot_jobs import schedule_hotspots
        from hotline.jobs import schedule_sweep
        from hotline.suggestion_jobs import retrain_if_stale, schedule_training

        schedule_sweep()
        schedule_hotspots(first=True)
        schedule_training()
        retrain_if_stale()  # a model from before an upgrade of the word segmenter
        worker_class = SimpleWorker if args.simple else HotlineWorker
        # Maintenance every minute rather than every 10 (and an idle worker waking every minute
        # rather than every 7 to do it): maintenance moves a job whose worker was killed (its
        # heartbeat lapses after ~90 s) on to its retry, and takes over a killed worker's
        # scheduler (its lock lapses after ~60 s), without which the periodic sweep stops.
        worker = worker_class([jobs.queue], connection=jobs.connection, maintenance_interval=60, worker_ttl=75)
        worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
