"""A change to a ticket reaches the dashboard's figures within about a minute: it marks its day
in its own transaction, the periodic "reports" job on the bulk queue (hotline/tasks/schedule.py)
refreshes the marked days every minute, and the dashboard says when, to the second
("数据截至 09:41:07"); a run that finds nothing to do says the figures are current then."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from rq import Queue

from hotline.extensions import db
from hotline.models.types import utcnow
from hotline.services.reporting import report_figures
from hotline.services.ticketing import tickets
from hotline.tasks import schedule
from tests import factories
from tests.web.conftest import text_of
from tests.web.test_reports import card
from tests.workers import running_worker, wait_until

AS_OF = re.compile(r"Figures as of (\d\d:\d\d:\d\d), refreshed every minute")


def test_the_refresh_runs_on_the_bulk_queue_at_least_every_minute(monkeypatch):
    monkeypatch.delenv("HOTLINE_SWEEP_SECONDS", raising=False)
    entry = schedule.BY_NAME["reports"]
    assert entry.bulk and entry.func == "hotline.tasks.sweep.refresh_reports"
    now = utcnow()
    for seconds in (0, 1, 29.5, 59.9):
        moment = now + timedelta(seconds=seconds)
        assert timedelta(0) < entry.next_run(moment) - moment <= timedelta(minutes=1)


def test_a_refresh_with_nothing_to_do_still_says_the_figures_are_current(login, city):
    report_figures.rebuild()
    built = report_figures.last_refreshed()
    assert report_figures.refresh_dirty() == 0
    assert report_figures.last_refreshed() > built
    html = text_of(login(city.supervisor).get("/reports/response-times"))
    shown = AS_OF.search(html).group(1)
    assert shown == report_figures.last_refreshed().astimezone(report_figures.timezone()).strftime("%H:%M:%S")


@pytest.mark.redis
@pytest.mark.worker
def test_a_change_reaches_the_dashboard_through_the_bulk_worker(login, city, bulk_queue: Queue, tmp_path):
    report_figures.rebuild()  # built once, as a running hotline's figures are
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    report_figures.refresh_dirty()
    client = login(city.supervisor)
    assert card(text_of(client.get("/reports/response-times")), "resolved")[0] == "0"

    tickets.resolve(city.roads_staff, ticket, "已修复")
    changed_at = utcnow()
    assert report_figures.pending_days() == 1  # marked with the change itself

    def refreshed() -> bool:
        db.session.rollback()  # a fresh snapshot: the worker writes in its own process
        stamp = report_figures.last_refreshed()
        return report_figures.pending_days() == 0 and stamp is not None and stamp >= changed_at

    # Runs every 2 s here (HOTLINE_SWEEP_SECONDS), every minute in production.
    with running_worker("--queue", "bulk", log=tmp_path / "worker.log", HOTLINE_SWEEP_SECONDS="2"):
        wait_until(refreshed, "the bulk worker's refresh of the report days", timeout=60)
    html = text_of(client.get("/reports/response-times"))
    assert card(html, "resolved")[0] == "1"
    stamp = report_figures.last_refreshed().astimezone(report_figures.timezone())
    assert AS_OF.search(html).group(1) == stamp.strftime("%H:%M:%S")
    assert stamp - changed_at.astimezone(stamp.tzinfo) < timedelta(minutes=1)
