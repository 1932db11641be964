"""Units in a tree (issue 17): `flask directory load` carries a deep tree of units (district,
street office, community) and refuses cycles and unknown parents line by line."""

from __future__ import annotations

import io

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department
from hotline.services.city import directory_file

DEEP = """kind,code,name,parent,department
department,east-c1,人民路社区居委会,east-s1,
department,east-s1,人民路街道办事处,east,
department,east,东城区人民政府,,
department,east-s2,解放路街道办事处,east,
department,east-c1-g1,人民路社区第一网格,east-c1,
"""


def test_a_deep_tree_loads_whatever_the_order(app):
    result = directory_file.load(io.StringIO(DEEP))
    assert result.errors == []
    parents = {d.code: d.parent.code if d.parent else None for d in db.session.scalars(select(Department))}
    assert parents == {
        "east": None,
        "east-s1": "east",
        "east-s2": "east",
        "east-c1": "east-s1",
        "east-c1-g1": "east-c1",
    }


def test_cycles_and_unknown_parents_are_named_by_line_and_nothing_is_written(app):
    text = """kind,code,name,parent,department
department,a,甲,c,
department,b,乙,a,
department,c,丙,b,
department,d,丁,nowhere,
department,e,戊,,
"""
    result = directory_file.load(io.StringIO(text))
    assert any(error.startswith("line 2:") and "ancestor" in error for error in result.errors)
    assert any(error.startswith("line 3:") and "ancestor" in error for error in result.errors)
    assert any(error.startswith("line 4:") and "ancestor" in error for error in result.errors)
    assert any(error.startswith("line 5:") and "nowhere" in error for error in result.errors)
    assert not any(error.startswith("line 6:") for error in result.errors)
    assert db.session.scalars(select(Department)).all() == []
    # A cycle through a unit already known: loading east's parent as its own community.
    directory_file.load(io.StringIO(DEEP))
    result = directory_file.load(
        io.StringIO("kind,code,name,parent,department\ndepartment,east,东城区人民政府,east-c1,\n")
    )
    assert result.errors and result.errors[0].startswith("line 2:")
    assert db.session.scalar(select(Department).where(Department.code == "east")).parent is None
