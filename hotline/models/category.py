"""The category tree that calls are filed under and routed by."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.department import Department


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    default_department: Mapped[Department | None] = relationship()

    def lineage(self) -> list[Category]:
        """This category and its ancestors, nearest first."""
        chain: list[Category] = []
        node: Category | None = self
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def routing_department(self) -> Department | None:
        """The default department, inherited from the nearest ancestor that has one."""
        for node in self.lineage():
            if node.default_department is not None:
                return node.default_department
        return None

    @property
    def path_name(self) -> str:
        return " / ".join(node.name for node in reversed(self.lineage()))

    def __repr__(self) -> str:
        return f"<Category {self.code}>"
