"""Learned routing suggestions: training on the accepted history, versions, routing by them.

The history is tiny and synthetic (three departments with distinct vocabulary), so
that training takes milliseconds; one test reads the real teddycup messages.
"""

from __future__ import annotations

import ast
import csv
import itertools
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, RoutingClassifier, Status, TicketEvent
from hotline.services.dispatch import suggestions, textmodel
from hotline.services.platform.queueing import TRAIN_NOW_ID, enqueue_training
from hotline.services.ticketing import tickets
from hotline.tasks.schedule import BY_NAME, ensure, next_training_time
from hotline.tasks.suggestions import scheduled_training, train_suggestions
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"

PLACES = ("人民路", "解放大道", "中山路", "建设街")
PROBLEMS = {
    "roads": ("路面有一个大坑，车辆颠簸", "路灯不亮，晚上很黑", "井盖缺失，行人容易掉下去", "道路开裂塌陷"),
    "water": ("停水三天了，没有自来水", "自来水发黄有异味", "水管爆裂，漏水严重", "水压太低，楼上没水"),
    "parks": ("公园树木倒伏挡路", "绿化带杂草丛生没人修剪", "公园健身器材损坏", "草坪被踩坏，花木枯死"),
}


@pytest.fixture(autouse=True)
def _fresh_model_cache(app: Flask):
    """The loaded model lives in the session-wide app: never let it leak into another test.
    And a smaller minimum history than a real hotline's, so that building it stays quick;
    messages in English whatever the default locale."""
    suggestions.forget()
    app.config["HOTLINE_SUGGESTIONS_MIN_SAMPLES"] = 10
    with force_locale("en"):
        yield
    del app.config["HOTLINE_SUGGESTIONS_MIN_SAMPLES"]
    suggestions.forget()


@pytest.fixture
def desk(city):
    """The city, plus a parks department and its staff."""
    parks = factories.make_department("parks", "园林局")
    city.extra["parks"] = parks
    city.extra["staff"] = {
        "roads": city.roads_staff,
        "water": city.water_staff,
        "parks": factories.make_user(Role.DEPARTMENT, parks, username="parks_staff"),
    }
    return city


def accepted(city, department: str, description: str, category: str = "other"):
    """A ticket filed under a category without default department, dispatched by hand, accepted."""
    ticket = factories.make_routed_ticket(city.operator, category=category, description=description)
    assert ticket.status == Status.PENDING_DISPATCH
    tickets.dispatch(city.dispatcher, ticket, department)
    return tickets.accept(city.extra["staff"][department], ticket)


_places = itertools.cycle(PLACES)  # every department's tickets spread over the streets


def history(city, departments=("roads", "water", "parks"), per_department: int = 5) -> None:
    for department in departments:
        for k in range(per_department):
            accepted(city, department, f"{next(_places)}{PROBLEMS[department][k % 4]}，请尽快处理。")


def test_no_model_means_no_suggestions(city):
    assert suggestions.suggest("人民路路面有一个大坑") == []
    assert suggestions.reload() is None
    ticket = factories.make_ticket(city.operator, category="other")
    assert suggestions.suggest_for_ticket(ticket) == []


def test_too_little_history_trains_nothing_and_says_why(desk):
    history(desk, ("roads",), per_department=3)
    history(desk, ("water",), per_department=2)
    result = suggestions.train()
    assert not result.trained and result.version is None
    assert result.samples == 5 and "Not enough history" in result.message and "at least 10 tickets" in result.message
    # Enough tickets, but only roads has three: there is nothing to choose between.
    history(desk, ("roads",), per_department=6)
    result = suggestions.train()
    assert not result.trained and result.samples == 11
    assert "fewer than 2 departments have 3" in result.message
    assert db.session.scalar(select(RoutingClassifier)) is None
    assert suggestions.suggest("人民路路面有一个大坑") == []


def test_trains_on_the_final_department_and_ranks_it_first(desk):
    history(desk)
    # Dispatched to water, reassigned to roads, accepted there: roads is what it teaches.
    moved = factories.make_routed_ticket(desk.operator, category="other", description="中山路路面有一个大坑")
    tickets.dispatch(desk.dispatcher, moved, "water")
    tickets.accept(desk.water_staff, moved)
    tickets.dispatch(desk.dispatcher, moved, "roads")
    tickets.accept(desk.roads_staff, moved)
    # Returned by water, still waiting for a dispatcher: taught nothing.
    returned = factories.make_routed_ticket(desk.operator, category="other", description="人民路井盖缺失")
    tickets.dispatch(desk.dispatcher, returned, "water")
    tickets.return_to_dispatch(desk.water_staff, returned, "不是我们的")
    # Dispatched but never accepted: taught nothing either.
    factories.make_ticket(desk.operator, category="water-supply", description="建设街停水")

    texts, labels, data_until = suggestions.training_data()
    assert Counter(labels) == {"roads": 6, "water": 5, "parks": 5}
    assert labels[texts.index("其他\n中山路路面有一个大坑")] == "roads"
    assert data_until == moved.accepted_at

    result = suggestions.train(trigger="cli")
    assert result.trained and result.version == 1 and result.samples == 16 and result.departments == 3
    assert "Version 1 trained on 16 tickets" in result.message
    row = db.session.scalar(select(RoutingClassifier))
    assert (row.version, row.trigger, row.classes, row.active) == (1, "cli", ["parks", "roads", "water"], True)
    assert row.sample_count == 16 and row.model_size == len(row.model) > 0
    assert row.library.startswith("scikit-learn ") and row.params["min_per_class"] == 3
    assert row.metrics is None  # under 50 tickets: nothing held out

    for text, expected in (
        ("解放大道路灯不亮，漆黑一片", "roads"),
        ("家里自来水发黄", "water"),
        ("公园的树倒了", "parks"),
    ):
        ranked = suggestions.suggest(text)
        assert [s.department for s in ranked][0] == expected, (text, ranked)
        assert ranked[0].confidence > 0.5 > ranked[1].confidence
        assert sorted(s.department for s in ranked) == ["parks", "roads", "water"]
    assert len(suggestions.suggest("停水", limit=1)) == 1
    ticket = factories.make_ticket(desk.operator, category="water-supply", description="楼上水压太低")
    assert suggestions.suggest_for_ticket(ticket)[0].department == "water"


def test_held_out_figures_when_there_is_enough_history(desk, monkeypatch):
    monkeypatch.setattr(suggestions, "HOLDOUT_MIN", 20)
    history(desk, per_department=8)
    result = suggestions.train()
    metrics = result.metrics
    assert metrics is not None and metrics == db.session.scalar(select(RoutingClassifier.metrics))
    assert metrics["samples"] == 5  # a fifth of 24, stratified
    assert metrics["top3"] == 1.0  # three departments: all of them
    assert metrics["baseline"] in (pytest.approx(1 / 5), pytest.approx(2 / 5))
    assert metrics["top1"] > metrics["baseline"]
    assert metrics["threshold"] == 0.9


def test_versions_retraining_and_withdrawal(desk, monkeypatch):
    history(desk, ("roads", "water"))
    assert suggestions.train().version == 1
    assert {s.department for s in suggestions.suggest("公园的树倒了")} == {"roads", "water"}

    again = suggestions.train()  # the daily job on a quiet day
    assert not again.trained and again.version == 1 and "nothing new" in again.message

    history(desk, ("parks",))
    second = suggestions.train()
    assert second.trained and second.version == 2 and second.departments == 3
    assert suggestions.suggest("公园的树倒了")[0].department == "parks"  # version 2 at once

    # A bad version withdrawn: the previous one answers again.
    suggestions.set_active(2, False)
    assert suggestions.reload() == 1
    assert "parks" not in {s.department for s in suggestions.suggest("公园的树倒了")}
    suggestions.set_active(2, True)

    # Only the newest models are kept; older versions keep their figures.
    monkeypatch.setattr(suggestions, "KEEP_MODELS", 1)
    assert suggestions.train(force=True).version == 3
    rows = {row.version: row for row in suggestions.versions()}
    assert sorted(rows) == [1, 2, 3]
    assert rows[1].model is None and not rows[1].active and rows[1].sample_count == 10
    assert rows[3].model is not None and rows[3].active
    assert suggestions.reload() == 3


def test_other_processes_see_a_new_version_within_the_recheck(desk):
    """A worker stored a version: a web process keeps its loaded model until it looks again."""
    history(desk, ("roads", "water"))
    suggestions.train()
    assert suggestions.suggest("公园的树倒了")[0].department in {"roads", "water"}
    texts, labels, _ = suggestions.training_data()
    worker_model = textmodel.train([*texts, *(f"公园{p}" for p in PROBLEMS["parks"])], [*labels, *["parks"] * 4])
    db.session.add(
        RoutingClassifier(
            version=2, sample_count=14, classes=worker_model.classes, model=worker_model.dumps(), model_size=1
        )
    )
    db.session.commit()
    assert "parks" not in {s.department for s in suggestions.suggest("公园的树倒了")}  # within the minute
    assert suggestions.reload() == 2
    assert suggestions.suggest("公园的树倒了")[0].department == "parks"


def test_a_confident_suggestion_routes_the_ticket_and_a_doubtful_one_does_not(app: Flask, desk):
    history(desk)
    suggestions.train()
    text = "中山路路灯不亮，晚上很黑"
    best = suggestions.suggest(text, category="其他")[0]
    assert best.department == "roads"
    saved = app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"]
    try:
        app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"] = best.confidence - 0.01
        ticket = factories.make_routed_ticket(desk.operator, category="other", description=text)
        assert (ticket.status, ticket.department.code, ticket.routed_by) == (Status.DISPATCHED, "roads", "suggestion")
        event = db.session.scalar(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "routed")
        )
        assert event.data["by"] == "suggestion" and event.data["department"] == "roads"
        assert event.data["confidence"] == pytest.approx(best.confidence, abs=1e-3)

        app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"] = min(best.confidence + 0.01, 1.0)
        if best.confidence >= 0.99:
            app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"] = 1.01  # never confident enough
        doubtful = factories.make_routed_ticket(desk.operator, category="other", description=text)
        assert doubtful.status == Status.PENDING_DISPATCH and doubtful.department is None
        event = db.session.scalar(
            select(TicketEvent).where(TicketEvent.ticket_id == doubtful.id, TicketEvent.kind == "routed")
        )
        assert event.data["by"] == "none"
        # A rule or a category default still comes first, however confident the model.
        app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"] = 0.01
        by_default = factories.make_routed_ticket(desk.operator, category="water-supply", description=text)
        assert (by_default.department.code, by_default.routed_by) == ("water", "category_default")
    finally:
        app.config["HOTLINE_AUTO_ROUTE_CONFIDENCE"] = saved


def test_cli_train_try_and_list(runner, desk):
    assert runner.invoke(args=["suggestions", "try", "路灯不亮"]).exit_code == 1
    assert "no trained model yet" in runner.invoke(args=["suggestions", "list"]).output
    history(desk, ("roads", "water"), per_department=3)
    result = runner.invoke(args=["suggestions", "train"])
    assert result.exit_code == 0 and "Not enough history" in result.output

    history(desk, ("parks",))
    history(desk, ("roads", "water"), per_department=2)
    result = runner.invoke(args=["suggestions", "train"])
    assert result.exit_code == 0, result.output
    assert "Version 1 trained on 15 tickets, 3 departments." in result.output
    assert "no accuracy figures" in result.output
    result = runner.invoke(args=["suggestions", "try", "解放大道路灯不亮", "--category", "other", "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "model version 1" and len(lines) == 3
    assert "roads  道路管理局" in lines[1]
    assert runner.invoke(args=["suggestions", "try", "x", "--category", "nope"]).exit_code == 2
    listed = runner.invoke(args=["suggestions", "list"]).output
    assert listed.startswith("v1  ") and "cli" in listed and "15 tickets, 3 departments" in listed


def test_jobs_without_a_queue(app: Flask, desk, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    assert enqueue_training() is False
    assert ensure(BY_NAME["training"]) is None
    history(desk, ("roads", "water"))
    outcome = train_suggestions("admin")
    assert outcome["trained"] and outcome["version"] == 1 and outcome["samples"] == 10
    assert db.session.scalar(select(RoutingClassifier.trigger)) == "admin"
    assert train_suggestions()["trained"] is False  # delivered twice: one version


def test_daily_training_time_in_the_hotline_time_zone(app: Flask):
    # 03:00 in Shanghai is 19:00 UTC the day before.
    assert next_training_time(datetime(2026, 11, 25, 18, 0, tzinfo=UTC)) == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    assert next_training_time(datetime(2026, 11, 25, 19, 0, tzinfo=UTC)) == datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
    app.config["HOTLINE_SUGGESTIONS_TRAIN_AT"] = "23:30"
    try:
        assert next_training_time(datetime(2026, 11, 25, 18, 0, tzinfo=UTC)) == datetime(
            2026, 11, 26, 15, 30, tzinfo=UTC
        )
    finally:
        del app.config["HOTLINE_SUGGESTIONS_TRAIN_AT"]


@pytest.mark.redis
def test_jobs_on_the_queue(app: Flask, redis_url):
    from hotline.extensions import jobs
    from tests.workers import empty_queue

    queue = jobs.bulk_queue  # training takes minutes: never in front of a ticket
    assert queue is not None
    empty_queue(queue)
    try:
        assert enqueue_training() and enqueue_training()  # the second click joins the first
        assert queue.job_ids.count(TRAIN_NOW_ID) == 1
        job = queue.fetch_job(TRAIN_NOW_ID)
        assert job.func is train_suggestions and job.timeout == 3600
        now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
        job_id = ensure(BY_NAME["training"], now)
        assert job_id == "hotline-training-20261125T190000Z"  # 03:00 in Shanghai
        assert ensure(BY_NAME["training"], now) == job_id  # each worker start: the same run, not a second
        scheduled = [j for j in queue.scheduled_job_registry.get_job_ids() if j.startswith("hotline-training")]
        assert scheduled == [job_id]
        assert queue.fetch_job(job_id).func is scheduled_training
    finally:
        empty_queue(queue)


def test_a_model_trained_with_another_segmenter_is_retrained_at_a_workers_start(app: Flask, desk, redis_url):
    """A model stored before the switch from jieba to rjieba (its params name no segmenter) is
    retrained, forced (the history is unchanged), by the job a worker's start queues; then
    nothing more is queued."""
    from rq import SimpleWorker

    from hotline.extensions import jobs
    from hotline.tasks.suggestions import retrain_if_stale
    from tests.workers import empty_queue

    queue = jobs.bulk_queue  # training goes on the bulk queue
    empty_queue(queue)
    history(desk)
    assert not retrain_if_stale()  # no model: nothing to retrain
    assert suggestions.train().trained
    assert not retrain_if_stale()  # trained with today's segmenter
    old = db.session.scalar(select(RoutingClassifier))
    params = dict(old.params)
    params.pop("tokenizer")  # as a jieba-era version was stored
    old.params = params
    db.session.commit()
    assert suggestions.stale()
    try:
        assert retrain_if_stale() and retrain_if_stale()  # two workers starting: one training
        assert queue.job_ids == [TRAIN_NOW_ID]
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert queue.fetch_job(TRAIN_NOW_ID).return_value()["trained"] is True
    finally:
        empty_queue(queue)
    db.session.expire_all()
    rows = db.session.scalars(select(RoutingClassifier).order_by(RoutingClassifier.version)).all()
    assert [(r.version, r.trigger, r.params.get("tokenizer")) for r in rows] == [
        (1, "manual", None),
        (2, "segmenter", "rjieba"),
    ]
    assert not suggestions.stale() and not retrain_if_stale()
    assert suggestions.reload() == 2


def test_one_segmenter_rjieba_for_the_model_the_hotspots_and_the_knowledge_base():
    """jieba (no release since 2020) is never loaded: rjieba segments everywhere."""
    code = (
        "from hotline.services.dispatch import textmodel; from hotline.services.hotspot_detection import hotspot_clustering; from hotline.services.knowledge_base import knowledge_index; "
        "textmodel.words('人民路停水'); list(hotspot_clustering.tokenised(['人民路停水'])); "
        "knowledge_index.terms('社保卡补办')"
    )
    assert _loaded_by(code, ("jieba", "rjieba")) == ["rjieba"]


def test_the_segmenter_splits_runs_of_letters_digits_and_signs_as_jieba_did():
    """rjieba keeps "2015-2040" or "baidu.com" whole; jieba, which the models were trained with
    and whose words the benchmark measured, split them: the same words count."""
    assert textmodel.words("见GB50500-2013规范第9.3.1条，2015-2040年规划，baidu.com，停水") == [
        "见",
        "gb50500",
        "2013",
        "规范",
        "第",
        "9.3",
        "1",
        "条",
        "2015",
        "2040",
        "年",
        "规划",
        "baidu",
        "com",
        "停水",
    ]


# --- the pipeline, without the database ------------------------------------------------------


def test_pipeline_leaves_out_rare_labels_and_round_trips():
    texts = ["路灯不亮", "路面坑洼", "道路开裂", "停水了", "水管爆裂", "自来水发黄", "公园树倒了"]
    labels = ["roads"] * 3 + ["water"] * 3 + ["parks"]
    model = textmodel.train(texts, labels)
    assert model.classes == ["roads", "water"] and model.left_out == {"parks": 1}
    again = textmodel.TextModel.loads(model.dumps())
    assert again.top(["水管漏水"], k=5) == model.top(["水管漏水"], k=5)
    assert again.top(["水管漏水"])[0][0][0] == "water"
    with pytest.raises(textmodel.NotEnoughData):
        textmodel.train(texts[:4], labels[:4])
    # A department whose tickets all read alike is learnt from their count.
    model = textmodel.train(["停水"] * 5 + ["路灯不亮"] * 5, ["water"] * 5 + ["roads"] * 5)
    assert model.top(["停水"])[0][0][0] == "water"


def test_holdout_split_is_fixed_and_stratified():
    labels = ["a"] * 10 + ["b"] * 5 + ["c"]
    train_idx, test_idx = textmodel.holdout_split(labels, 0.2, seed=0)
    assert (train_idx, test_idx) == textmodel.holdout_split(labels, 0.2, seed=0)
    assert sorted(train_idx + test_idx) == list(range(16))
    assert Counter(labels[i] for i in test_idx) == {"a": 2, "b": 1}  # "c" seen once: kept to train on
    assert 15 in train_idx


def test_web_processes_do_not_load_the_learning_libraries():
    """Creating the app must not import scikit-learn or the segmenter: only suggesting does."""
    code = (
        "from hotline import create_app; from config import TestingConfig; "
        "app = create_app(TestingConfig()); import hotline.services.dispatch.suggestions, hotline.tasks.suggestions"
    )
    assert _loaded_by(code, ("sklearn", "rjieba", "jieba", "scipy")) == []


def _loaded_by(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of these modules a fresh interpreter has imported after running the code."""
    code += f"; import sys; print(sorted(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])  # the last line: the print


@pytest.mark.skipif(not (DATA / "teddycup2020c" / "messages.csv").exists(), reason=f"no real data in {DATA}")
def test_real_citizen_messages_are_placed_well_above_the_majority_baseline():
    with open(DATA / "teddycup2020c" / "messages.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # The subject and the start of the message: the gist, and quick to train on.
    texts = [f"{r['留言主题']}\n{r['留言详情'][:120]}" for r in rows]
    labels = [r["一级分类"] for r in rows]
    _, metrics = textmodel.train_and_evaluate(texts, labels, seed=0)
    assert metrics.samples == 99 and metrics.baseline < 0.25  # 7 labels, the largest a fifth
    assert metrics.top3 >= metrics.baseline + 0.5
    assert metrics.top1 >= metrics.baseline + 0.4
