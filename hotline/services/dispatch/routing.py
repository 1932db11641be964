"""Routing: which department must act on a ticket, and why.

In order: the first active rule of the dispatch catalogue (派单目录) that
matches, by ascending priority; the category's default department (inherited
down the tree); a learned suggestion confident enough to act on; else the
dispatcher's desk. Every decision carries a human reason and, for testing a
rule set, a trace of why each rule did or did not match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline import labels
from hotline.extensions import db
from hotline.models import TICKET_TYPES, URGENCIES, Category, Department, District, RoutingOutcome, RoutingRule
from hotline.services.city import where
from hotline.services.city.directory import by_code
from hotline.services.dispatch import suggestions
from hotline.services.errors import InvalidInput, NotFound

KEYWORD_MAX = 50


@dataclass(frozen=True)
class Rule:
    """A rule as plain data: what matching needs, loaded once per batch, no ORM round trips."""

    id: int | None
    priority: int
    name: str
    category_id: int | None
    district_id: int | None
    type: str | None
    urgency: str | None
    keywords: tuple[str, ...]
    department_id: int
    assisting_ids: tuple[int, ...] = ()
    place_department_id: int | None = None  # geo: the unit handling the ticket's place

    @classmethod
    def of(cls, rule: RoutingRule) -> Rule:
        return cls(
            id=rule.id,
            priority=rule.priority,
            name=rule.name,
            category_id=rule.category_id,
            district_id=rule.district_id,
            type=rule.type,
            urgency=rule.urgency,
            keywords=tuple(k.lower() for k in rule.keywords or () if k),
            department_id=rule.department_id,
            assisting_ids=tuple(d.id for d in rule.assisting),
            place_department_id=rule.place_department_id,
        )

    def mismatch(self, case: Case) -> str | None:
        """None when the rule matches; else the first condition that fails, for the trace."""
        if self.category_id is not None and self.category_id not in case.category_ids:
            return "category"
        if self.district_id is not None and self.district_id != case.district_id:
            return "district"
        if self.type is not None and self.type != case.type:
            return "type"
        if self.urgency is not None and self.urgency != case.urgency:
            return "urgency"
        # A keyword may name the matter (the description) or the place (the address: a street
        # office's roads and estates, issue 17).
        if self.keywords and not any(keyword in case.text or keyword in case.address for keyword in self.keywords):
            return "keywords"
        # geo (issue 18): where it happened, by the unit handling the gazetteer place at the
        # ticket's point (looked up only when a rule asks, see Case.place_unit_id).
        if self.place_department_id is not None and self.place_department_id != case.place_unit_id:
            return "place_unit"
        return None


@dataclass(frozen=True)
class Case:
    """What routing looks at in a ticket (or in a sample text an administrator tries)."""

    category_ids: frozenset[int]
    district_id: int | None
    type: str
    urgency: str
    text: str  # lower-cased description
    address: str = ""  # lower-cased address
    lat: float | None = None  # geo (issue 18): the ticket's point, WGS84
    long: float | None = None

    @cached_property
    def place_unit_id(self) -> int | None:
        """The unit handling the gazetteer place at the point (None without a point or place):
        one query, made the first time a rule with that condition is tried."""
        return where.handling_unit_id(self.lat, self.long)

    @classmethod
    def of_ticket(cls, ticket) -> Case:
        return cls.build(
            ticket.category,
            ticket.district_id,
            ticket.type,
            ticket.urgency,
            ticket.description,
            ticket.address,
            lat=ticket.lat,
            long=ticket.long,
        )

    @classmethod
    def build(
        cls,
        category: Category,
        district_id: int | None,
        type: str,
        urgency: str,
        text: str,
        address: str | None = "",
        *,
        lat: float | None = None,
        long: float | None = None,
    ) -> Case:
        lineage = frozenset(c.id for c in category.lineage())
        return cls(lineage, district_id, type, urgency, (text or "").lower(), (address or "").lower(), lat, long)


@dataclass
class Decision:
    by: str  # rule | category_default | suggestion | none
    department: Department | None
    assisting: list[Department] = field(default_factory=list)
    rule: Rule | None = None
    confidence: float | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return labels.routing_reason(self.event_data())

    def event_data(self) -> dict[str, Any]:
        """The routed event's data: codes and parameters only (`by`, the rule, the confidence),
        put into words in the reader's language when shown (labels.routing_reason)."""
        data: dict[str, Any] = {"by": self.by}
        if self.department is not None:
            data["department"] = self.department.code
        if self.assisting:
            data["assisting"] = [d.code for d in self.assisting]
        if self.rule is not None:
            data["rule"] = {"id": self.rule.id, "priority": self.rule.priority, "name": self.rule.name}
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 3)
        return data


def active_rules() -> list[Rule]:
    rules = db.session.scalars(
        select(RoutingRule)
        .where(RoutingRule.active.is_(True))
        .options(selectinload(RoutingRule.assisting))
        .order_by(RoutingRule.priority, RoutingRule.id)
    )
    return [Rule.of(rule) for rule in rules]


def decide(case: Case, category: Category, rules: Sequence[Rule], trace: bool = False) -> Decision:
    steps: list[dict[str, Any]] = []
    for rule in rules:
        failed = rule.mismatch(case)
        if trace:
            steps.append({"rule": rule.id, "priority": rule.priority, "matched": failed is None, "failed": failed})
        if failed is None:
            return Decision(
                "rule",
                db.session.get(Department, rule.department_id),
                [db.session.get(Department, i) for i in rule.assisting_ids],
                rule=rule,
                trace=steps,
            )
    default = category.routing_department
    if default is not None:
        return Decision("category_default", default, trace=steps)
    suggestion = _confident_suggestion(case.text, category)
    if suggestion is not None:
        department, confidence = suggestion
        return Decision("suggestion", department, confidence=confidence, trace=steps)
    return Decision("none", None, trace=steps)


def _confident_suggestion(text: str, category: Category | None = None) -> tuple[Department, float] | None:
    """A learned suggestion above the configured confidence, when a model is trained."""
    threshold = current_app.config.get("HOTLINE_AUTO_ROUTE_CONFIDENCE")
    if not threshold:
        return None
    # The model learnt from the category path and the description together. A broken model
    # must not stop routing: the ticket then waits on the dispatcher's desk as without one.
    try:
        best = suggestions.suggest(text, limit=1, category=category.path_name if category else None)
    except Exception:
        current_app.logger.exception("routing suggestion failed; the ticket goes to the desk")
        return None
    if not best or best[0].confidence < threshold:
        return None
    department = db.session.scalar(select(Department).where(Department.code == best[0].department))
    return (department, best[0].confidence) if department is not None else None


def try_rules(sample: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> Decision:
    """ "Which department would get this?": run a sample against the saved rules, or against an
    unsaved rule set, with the trace of every rule tried."""
    category = by_code(Category, sample.get("category"), "category", required=True)
    district = by_code(District, sample.get("district"), "district")
    case = Case.build(
        category,
        district.id if district else None,
        sample.get("type") or "complaint",
        sample.get("urgency") or "normal",
        sample.get("description") or "",
    )
    candidates = active_rules() if rules is None else [_unsaved_rule(r, i) for i, r in enumerate(rules)]
    candidates.sort(key=lambda r: (r.priority, r.id or 0))
    return decide(case, category, candidates, trace=True)


# --- the rule catalogue, as administrators keep it -------------------------------------------


def list_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(
            select(RoutingRule)
            .options(selectinload(RoutingRule.assisting))
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
    )


def get_rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("No routing rule %(id)s.", id=rule_id))
    return rule


def save_rule(fields: dict[str, Any], rule: RoutingRule | None = None) -> RoutingRule:
    """Create or replace a rule from its JSON form (codes, not ids); all conditions optional."""
    values = _validated_rule(fields)
    rule = rule or RoutingRule()
    for name, value in values.items():
        setattr(rule, name, value)
    db.session.add(rule)
    db.session.commit()
    return rule


def delete_rule(rule: RoutingRule) -> None:
    db.session.delete(rule)
    db.session.commit()


def rule_json(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "priority": rule.priority,
        "name": rule.name,
        "category": rule.category.code if rule.category else None,
        "district": rule.district.code if rule.district else None,
        "type": rule.type,
        "urgency": rule.urgency,
        "keywords": list(rule.keywords or []),
        "department": rule.department.code,
        "assisting": [d.code for d in rule.assisting],
        "active": rule.active,
        "place_unit": rule.place_department.code if rule.place_department else None,
    }


def _validated_rule(fields: dict[str, Any]) -> dict[str, Any]:
    priority = fields.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise InvalidInput(_("Priority must be a whole number."), field="priority")
    kind = fields.get("type")
    if kind is not None and kind not in TICKET_TYPES:
        raise InvalidInput(_("Unknown ticket type “%(type)s”.", type=kind), field="type")
    urgency = fields.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise InvalidInput(_("Urgency must be normal or urgent."), field="urgency")
    keywords = fields.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise InvalidInput(_("Keywords must be a list of words."), field="keywords")
    keywords = [k.strip()[:KEYWORD_MAX] for k in keywords if k.strip()]
    department = by_code(Department, fields.get("department"), "department", required=True)
    assisting_codes = fields.get("assisting") or []
    if not isinstance(assisting_codes, list):
        raise InvalidInput(_("Assisting departments must be a list of codes."), field="assisting")
    assisting = [by_code(Department, code, "assisting", required=True) for code in assisting_codes]
    if department in assisting:
        raise InvalidInput(_("The lead department cannot also assist."), field="assisting")
    name = fields.get("name") or ""
    active = fields.get("active", True)
    if not isinstance(name, str) or not isinstance(active, bool):
        raise InvalidInput(_("Name must be text and active true or false."), field="name")
    return {
        "priority": priority,
        "name": name.strip()[:120],
        "category": by_code(Category, fields.get("category"), "category"),
        "district": by_code(District, fields.get("district"), "district"),
        "type": kind,
        "urgency": urgency,
        "keywords": keywords,
        "department": department,
        "assisting": list(dict.fromkeys(assisting)),
        "active": active,
        "place_department": by_code(Department, fields.get("place_unit"), "place_unit"),
    }


def _unsaved_rule(fields: dict[str, Any], index: int) -> Rule:
    values = _validated_rule(fields)
    return Rule(
        id=fields.get("id") if isinstance(fields.get("id"), int) else None,
        priority=values["priority"],
        name=values["name"] or f"#{index + 1}",
        category_id=values["category"].id if values["category"] else None,
        district_id=values["district"].id if values["district"] else None,
        type=values["type"],
        urgency=values["urgency"],
        keywords=tuple(k.lower() for k in values["keywords"]),
        department_id=values["department"].id,
        assisting_ids=tuple(d.id for d in values["assisting"]),
        place_department_id=values["place_department"].id if values["place_department"] else None,
    )


def record_outcome(ticket, kind: str, at) -> None:
    """Count a return or reassignment against the routing that sent the ticket where it was."""
    db.session.add(
        RoutingOutcome(
            ticket_id=ticket.id,
            kind=kind,
            routed_by=ticket.routed_by or "unknown",
            rule_id=ticket.routing_rule_id,
            category_id=ticket.category_id,
            department_id=ticket.department_id,
            at=at,
        )
    )
