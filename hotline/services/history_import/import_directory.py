"""Departments, categories and districts for imported tickets (`services.history_import.importing`): found
by code or name, else created, with the hotline's reference data loaded once per import.

- A department is found by its code (as written, or lower-cased) or its name; a new one gets
  the value lower-cased as its code when that is a usable code (`NYPD` -> `nypd`), else a
  derived one, and the name its rows used most in the file (agencies' sub-units vary).
- Categories have two levels: the category column's value at the top, the subcategory's
  under it. Each is found by its derived code (slug and a short hash of the names, so a
  renamed category is still found by the next import) or by its name under the same parent.
- A district is found by code or name, else created (`STATEN ISLAND` -> `staten-island`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, Department, District
from hotline.services.history_import.import_mapping import NAME_MAX, derived_code, plain_code


class Directory:
    def __init__(self, counts: Any) -> None:
        """`counts` gets departments_created, categories_created and districts_created."""
        self.counts = counts
        self.departments = _Index(db.session.execute(select(Department.id, Department.code, Department.name)))
        self.districts = _Index(db.session.execute(select(District.id, District.code, District.name)))
        rows = db.session.execute(select(Category.id, Category.code, Category.name, Category.parent_id)).all()
        self.categories = {c.code: c.id for c in rows}
        self.category_by_name = {(c.parent_id, c.name): c.id for c in rows}
        self.new_department_names: dict[int, Counter[str]] = {}

    def department(self, value: str, name: str) -> int:
        code = plain_code(value) or derived_code(value)
        department_id = self.departments.find(value) or self.departments.by_code.get(code)
        if department_id is None:
            department = Department(code=code, name=(name or value)[:NAME_MAX])
            db.session.add(department)
            db.session.flush()
            department_id = self.departments.add(department.id, code, department.name)
            self.new_department_names[department_id] = Counter()
            self.counts.departments_created += 1
        names = self.new_department_names.get(department_id)
        if names is not None and name:
            names[name[:NAME_MAX]] += 1
        return department_id

    def name_new_departments(self) -> None:
        for department_id, names in self.new_department_names.items():
            if names:
                db.session.get(Department, department_id).name = names.most_common(1)[0][0]

    def category(self, name: str, subname: str) -> int:
        parent_id = self._category(name[:NAME_MAX], None, derived_code(name))
        if not subname:
            return parent_id
        return self._category(subname[:NAME_MAX], parent_id, derived_code(subname, name))

    def _category(self, name: str, parent_id: int | None, code: str) -> int:
        category_id = self.categories.get(code) or self.category_by_name.get((parent_id, name))
        if category_id is not None:
            return category_id
        category = Category(code=code, name=name, parent_id=parent_id)
        db.session.add(category)
        db.session.flush()
        self.categories[code] = self.category_by_name[(parent_id, name)] = category.id
        self.counts.categories_created += 1
        return category.id

    def district(self, value: str) -> int:
        code = plain_code(value.replace(" ", "-")) or derived_code(value)
        district_id = self.districts.find(value) or self.districts.by_code.get(code)
        if district_id is None:
            district = District(code=code, name=value[:NAME_MAX])
            db.session.add(district)
            db.session.flush()
            district_id = self.districts.add(district.id, code, district.name)
            self.counts.districts_created += 1
        return district_id


class _Index:
    """Departments or districts by code, lower-cased code and name."""

    def __init__(self, rows) -> None:
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        for row in rows:
            self.add(row.id, row.code, row.name)

    def add(self, row_id: int, code: str, name: str) -> int:
        self.by_code.setdefault(code, row_id)
        self.by_code.setdefault(code.lower(), row_id)
        self.by_name.setdefault(name, row_id)
        return row_id

    def find(self, value: str) -> int | None:
        for key in (value, value.lower(), value.replace(" ", "-").lower()):
            if key in self.by_code:
                return self.by_code[key]
        return self.by_name.get(value)
