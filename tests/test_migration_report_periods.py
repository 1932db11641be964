"""The migration that adds the week and month rows (f16b00000130) adds up the day rows already
there, as the refresh adds them up afterwards: a database upgraded with ten years of figures
answers a ten-year report at once, without a rebuild. In a database of its own, as
tests/test_migration_sessions_tokens.py does (whose `old_app` fixture this reuses)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import select, text

from hotline.extensions import db
from hotline.models import ReportPeriodFact
from hotline.models.report import CLOCKS, COUNTS
from hotline.services.reporting import report_figures
from tests.test_migration_sessions_tokens import old_app  # noqa: F401 (a fixture)

REVISION = "f16b00000130"
# The figures the day rows had at that revision: the first contact's came later (issue 17, f17b00000010).
LATER = ("contact_decided", "contacted_on_time", "contact")
OLD_COUNTS = tuple(name for name in COUNTS if name not in LATER)
OLD_CLOCKS = tuple(clock for clock in CLOCKS if clock not in LATER)
BEFORE = ScriptDirectory(str(Path(__file__).parents[1] / "migrations")).get_revision(REVISION).down_revision


def _rows() -> dict[tuple, tuple]:
    """Every week and month row, its figures with the histograms unpacked."""
    found = {}
    for row in db.session.scalars(select(ReportPeriodFact)):
        figures = tuple(getattr(row, name) for name in (*COUNTS, *(f"{c}_seconds" for c in CLOCKS)))
        histograms = tuple(
            tuple(sorted(report_figures.merge_packed([getattr(row, f"{c}_hist")]).items())) for c in CLOCKS
        )
        found[(row.grain, row.day, row.dim, row.key)] = (figures, histograms)
    return found


def test_the_day_rows_already_there_are_added_up(old_app):  # noqa: F811
    rng = random.Random(130)
    with old_app.app_context():
        upgrade(revision=BEFORE)
        days = sorted({date(2016, 1, 1) + timedelta(days=rng.randrange(3653)) for _ in range(60)})
        days += [date(2019, 12, 30), date(2019, 12, 31), date(2020, 1, 1)]  # a week across the year's end
        with db.engine.begin() as connection:
            for day in days:
                for dim, key in (("all", ""), ("department", "roads"), ("department", rng.choice(["water", "parks"]))):
                    values = {name: rng.randrange(5) for name in OLD_COUNTS}
                    values.update({f"{c}_seconds": rng.random() * 1e5 for c in OLD_CLOCKS})
                    values.update(
                        {
                            f"{c}_hist": report_figures.pack_histogram(
                                {rng.randrange(300): rng.randrange(1, 4) for _ in range(rng.randrange(4))}
                            )
                            for c in OLD_CLOCKS
                        }
                    )
                    columns = ", ".join(values)
                    marks = ", ".join(f":{name}" for name in values)
                    connection.execute(
                        text(f"INSERT INTO report_fact (day, dim, key, {columns}) VALUES (:day, :dim, :key, {marks})"),
                        {"day": day, "dim": dim, "key": key, **values},
                    )
        upgrade(revision=REVISION)
        upgrade()  # on to the head: the models read the columns added since (they start at 0)
        migrated = _rows()
        assert {grain for grain, *_rest in migrated} == {"week", "month"}
        assert ("week", date(2019, 12, 30), "all", "") in migrated  # the week that runs into 2020
        # What the refresh adds up from the same day rows.
        report_figures.refresh_periods(days)
        db.session.commit()
        refreshed = _rows()
        assert set(migrated) == set(refreshed)
        for key, (figures, histograms) in refreshed.items():
            got_figures, got_histograms = migrated[key]
            assert got_histograms == histograms, key
            assert got_figures[: len(COUNTS)] == figures[: len(COUNTS)], key
            for got, wanted in zip(got_figures[len(COUNTS) :], figures[len(COUNTS) :], strict=True):
                assert abs(got - wanted) < 1e-6, key
        db.session.remove()
