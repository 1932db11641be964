"""The demo city: departments, districts, a category tree, users of every role and
a few hundred tickets over the past four weeks, in every state.

`flask --app hotline seed-demo` calls `seed_demo`. The tickets lie in the past,
so each is drafted by intake (`intake.draft`), walked through its story with the
timestamps and the event trail that the lifecycle services (`hotline.services.ticketing.tickets`)
would have written, and written with the others by `intake.open_history`; nothing is
enqueued. A seeded `random.Random` makes the city the same
on every run for the same day. The data files in `hotline/demo/data/` ship
with the package (see `hotline/demo/data/build.py` for where they come from).
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, func, insert, select, update

from hotline.demo import demo_tree
from hotline.extensions import db
from hotline.models import (  # units in a tree (issue 17)
    Article,
    ArticleUse,
    ArticleVersion,
    Category,
    Channel,
    Department,
    District,
    DistrictArea,
    DutyAlert,
    DutyContact,
    DutyPattern,
    DutyShift,
    OutboundMessage,
    Place,
    Role,
    RoutingOutcome,
    Status,
    Ticket,
    TicketAssist,
    TicketEvent,
    TicketHold,
    TicketSearch,
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import passwords
from hotline.services.accounts.users import create_user
from hotline.services.citizens.phones import normalise_phone
from hotline.services.city import geo_files
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import is_working_day, work_calendar
from hotline.services.clocks.overdue import overdue_now
from hotline.services.errors import Conflict
from hotline.services.knowledge_base import knowledge
from hotline.services.ticketing import intake, lifecycle
from hotline.services.ticketing.numbering import next_ticket_number

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = passwords.DEMO_PASSWORD  # published: the demo city's users only, refused for anyone else
DEFAULT_TICKETS = 300
SEED = 12345
DAYS = 28  # tickets are spread over the past four weeks

DEPARTMENTS: list[tuple[str, str]] = [
    ("housing", "住房和城乡建设局"),
    ("city-management", "城市管理局"),
    ("transport", "交通运输局"),
    ("human-resources", "人力资源和社会保障局"),
    ("education", "教育局"),
    ("culture-tourism", "文化和旅游局"),
    ("health", "卫生健康委员会"),
    ("ecology-environment", "生态环境局"),
    ("market-regulation", "市场监督管理局"),
    ("natural-resources", "自然资源和规划局"),
    ("commerce", "商务局"),
    ("water", "水务集团"),
    ("power", "国网供电公司"),
    ("gas", "燃气集团"),
]

DISTRICTS: list[tuple[str, str]] = [
    ("dongcheng", "东城区"),
    ("xicheng", "西城区"),
    ("nanhu", "南湖区"),
    ("beishan", "北山区"),
    ("binjiang", "滨江区"),
    ("gaoxin", "高新区"),
    ("jingkai", "经开区"),
    ("xincheng", "新城区"),
    ("laocheng", "老城区"),
    ("lingang", "临港区"),
    ("qingshan", "青山县"),
    ("baisha", "白沙县"),
]
# Busier central districts log more calls.
DISTRICT_WEIGHTS = [9, 9, 7, 6, 6, 5, 4, 5, 6, 3, 2, 2]

# The seven first-level categories of the Teddy Cup messages, with their ASCII codes.
FIRST_LEVELS: dict[str, str] = {
    "劳动和社会保障": "labour-social-security",
    "城乡建设": "urban-construction",
    "教育文体": "education-culture-sports",
    "卫生计生": "health-family-planning",
    "交通运输": "transport",
    "商贸旅游": "commerce-tourism",
    "环境保护": "environmental-protection",
}

# Category path (names) -> default department; children inherit it. Most of
# 商贸旅游 has none, so its tickets wait for the dispatcher (pending_dispatch).
ROUTING: dict[tuple[str, ...], str] = {
    ("劳动和社会保障",): "human-resources",
    ("劳动和社会保障", "工资福利", "住房公积金"): "housing",
    ("城乡建设",): "housing",
    ("城乡建设", "城市建设和市政管理"): "city-management",
    ("城乡建设", "城市建设和市政管理", "自来水供应"): "water",
    ("城乡建设", "城市建设和市政管理", "电力供应"): "power",
    ("城乡建设", "城市建设和市政管理", "燃气供应"): "gas",
    ("城乡建设", "城市建设和市政管理", "公共汽车"): "transport",
    ("城乡建设", "城市建设和市政管理", "地铁城铁"): "transport",
    ("城乡建设", "城乡规划"): "natural-resources",
    ("教育文体",): "education",
    ("教育文体", "文化"): "culture-tourism",
    ("教育文体", "文物管理"): "culture-tourism",
    ("教育文体", "体育"): "culture-tourism",
    ("卫生计生",): "health",
    ("卫生计生", "食品药品监管"): "market-regulation",
    ("交通运输",): "transport",
    ("商贸旅游", "旅游管理"): "culture-tourism",
    ("商贸旅游", "市场监管"): "market-regulation",
    ("环境保护",): "ecology-environment",
}
# Where a misrouted ticket really belonged: what a department returns it for.
RELATED: dict[str, list[str]] = {
    "housing": ["city-management", "natural-resources"],
    "city-management": ["housing", "water", "power", "gas", "ecology-environment"],
    "transport": ["city-management"],
    "human-resources": ["housing", "health"],
    "education": ["culture-tourism", "human-resources"],
    "culture-tourism": ["education", "market-regulation"],
    "health": ["market-regulation", "human-resources"],
    "ecology-environment": ["city-management", "water"],
    "market-regulation": ["commerce", "health"],
    "natural-resources": ["housing"],
    "commerce": ["market-regulation"],
    "water": ["city-management"],
    "power": ["city-management"],
    "gas": ["city-management"],
}
# Where the dispatcher sends what routing could not place (nearest path wins).
DISPATCHER_CHOICE: dict[tuple[str, ...], str] = {
    ("商贸旅游",): "market-regulation",
    ("商贸旅游", "商业贸易"): "commerce",
    ("商贸旅游", "其他"): "commerce",
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢"
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "158", "159", "166", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "199",
]  # fmt: skip
ROADS = [
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "文化路",
    "友谊路",
    "胜利街",
    "光明路",
]
ESTATES = [
    "幸福里小区",
    "锦绣花园",
    "阳光花园",
    "和平小区",
    "光明小区",
    "友谊新村",
    "翠湖苑",
    "金色家园",
    "滨江一号",
    "书香门第",
]

DIRECT_ANSWERS = [
    "已按知识库向市民解答相关政策及办理流程，市民表示清楚，无其他诉求。",
    "已告知市民办理地点、时间及所需材料，市民表示满意。",
    "已告知市民相关部门的咨询电话及网上办理渠道。",
    "已向市民解释相关规定，市民表示理解。",
]
RESOLUTIONS = [
    "经现场核实，已安排工作人员处理完毕，并电话告知市民处理结果，市民表示认可。",
    "已联系市民了解详细情况，问题已于当日整改到位。",
    "经核查，反映情况属实，已责令相关单位限期整改，并将持续跟踪。",
    "已向市民解释相关政策规定，并告知后续办理渠道，市民表示理解。",
    "已派员上门处理，现已恢复正常，后续将加强日常巡查。",
    "经调查，该问题涉及历史遗留原因，已制定解决方案并告知市民，预计下月完成。",
    "已组织执法人员现场检查，依法责令整改，并对当事方进行了教育。",
    "已协调相关单位处理完毕，回访市民表示满意。",
]
NOTES = [
    "已电话联系市民，约定明天上门查看。",
    "已转交辖区站所现场核实。",
    "市民电话暂时无法接通，稍后再联系。",
    "现场查看情况属实，正在协调处理。",
    "需要物业配合，已发函。",
    "已与市民沟通，市民同意等待处理结果。",
]
RETURN_REASONS = [
    "经核实，该事项不属于我单位职责范围，建议转{department}办理。",
    "事发地点及诉求内容属{department}管辖，请改派。",
    "该问题涉及{department}职能，我单位无权处理，申请退回。",
]


@dataclass
class Description:
    level1: str
    level2: str
    level3: str
    text: str


@dataclass
class _Plan:
    """What happens to one ticket, decided before its events are written."""

    created_at: datetime
    stop: str | None = None  # the status where the forced story ends
    force_return: bool = False
    force_direct: bool = False
    force_unrouted: bool = False
    department: str | None = None  # a text that this department's category routes to


@dataclass
class _Built:
    ticket: Ticket
    events: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # returns, for the misrouting report


def seed_demo(ticket_count: int = DEFAULT_TICKETS, now: datetime | None = None, seed: int = SEED) -> str:
    """Load the demo city into an empty database; returns a short summary for people.

    Refuses (Conflict) when the database already has departments, districts,
    categories, users or tickets, so that it can never double up. Users are made
    by `users.create_user` (one strong password hash each: most of the time taken);
    the tickets and their events go in with one commit.
    """
    _require_empty()
    if ticket_count < 0:
        raise ValueError("ticket_count must not be negative")
    rng = random.Random(seed)
    tz = current_app.config["HOTLINE_TIMEZONE"]
    now = now or utcnow()

    departments = {code: Department(code=code, name=name) for code, name in DEPARTMENTS}
    districts = [District(code=code, name=name) for code, name in DISTRICTS]
    try:
        db.session.add_all([*departments.values(), *districts])
        categories = _build_categories(departments)
        db.session.add_all(categories.values())
        db.session.commit()
        _load_geography()  # geo (issue 18): the districts' outlines and the gazetteer
        users = _create_users()  # each commits, as `flask users create` does
        seeder = _TicketSeeder(rng, tz, now, departments, districts, categories, users)
        statuses = seeder.seed(ticket_count)
        db.session.commit()
        articles = _seed_knowledge(categories, users, now)
        # Units in a tree (issue 17): the stories are played by the services, at the real time: only
        # for a city seeded now (tests seed cities at other moments).
        played = abs(now - utcnow()) < timedelta(minutes=10)
        users |= demo_tree.seed_tree(DEMO_PASSWORD, users["dispatcher"], play=played)
        # Duty rota (值班, issue 17 item 4): every unit, the tree's included.
        _seed_duty_rota({unit.code: unit for unit in db.session.scalars(select(Department))}, users)
    except BaseException:
        # Leave the database empty again, so that the next try is not refused.
        db.session.rollback()
        _remove_city()
        raise

    overdue = overdue_now(now).total
    by_status = ", ".join(f"{status} {statuses[status]}" for status in Status.ALL if statuses[status])
    department_users = ", ".join(f"dept-{code}" for code in departments)
    department_users += "; units in a tree: " + ", ".join(f"dept-{code}" for code, _n, _p in demo_tree.UNITS)
    return "\n".join(
        [
            f"Demo city loaded: {len(departments)} departments, {len(districts)} districts, "
            f"{len(categories)} categories, {len(users)} users, {ticket_count} tickets, {articles} articles.",
            f"Tickets by status: {by_status or 'none'}; {overdue} overdue.",
            f"Sign in with password “{DEMO_PASSWORD}” as any of these users:",
            "  operator, operator2, dispatcher, supervisor, admin",
            f"  department staff: {department_users}",
        ]
    )


# The knowledge base (知识库): (owning department, category path, question, answer, tags), each
# written by the department and approved by the supervisor. The last two are a notice that
# has expired (flagged, never offered) and a draft waiting in the approval queue.
KNOWLEDGE: list[tuple[str, tuple[str, ...], str, str, list[str]]] = [
    (
        "water",
        ("城乡建设", "城市建设和市政管理", "自来水供应"),
        "计划停水通知在哪里查询？",
        "计划停水会提前24小时在水务集团官网、微信公众号和小区公告栏发布；也可拨打水务集团供水服务热线查询本小区"
        "的停水时间和恢复时间。突发爆管抢修造成的停水以现场公告为准。",
        ["停水", "停水通知", "供水"],
    ),
    (
        "human-resources",
        ("劳动和社会保障", "城镇职工社会保险", "其他"),
        "社保卡丢失了怎么补办？",
        "请先通过12333电话或“掌上社保”APP办理临时挂失；再携带本人身份证到社保经办机构或社保卡合作银行网点申请"
        "补办，工本费按规定收取，一般7个工作日内可领取新卡，也可选择即时制卡网点当场领取。",
        ["社保卡", "补办", "挂失"],
    ),
    (
        "ecology-environment",
        ("环境保护", "环境污染", "噪音污染"),
        "夜间施工噪音扰民，允许施工的时段是什么？",
        "按照噪声污染防治法，22时至次日6时禁止在居民区等噪声敏感区域进行产生噪音的建筑施工作业；因抢修、"
        "抢险或工艺要求必须连续施工的，须取得相关部门证明并提前公告附近居民。夜间违规施工可拨打12345投诉，"
        "由生态环境部门或城管执法部门现场处理。",
        ["噪音", "施工", "夜间施工"],
    ),
    (
        "housing",
        ("劳动和社会保障", "工资福利", "住房公积金"),
        "住房公积金在什么情况下可以提取？",
        "购买、建造、翻建、大修自住住房，偿还自住住房贷款本息，租房自住，离休退休，完全丧失劳动能力并与单位终止"
        "劳动关系，出境定居等情形可以提取。可通过公积金中心网上办事大厅、手机APP或到服务网点申请，携带身份证和"
        "相关证明材料。",
        ["公积金", "提取", "租房提取"],
    ),
    (
        "power",
        ("城乡建设", "城市建设和市政管理", "电力供应"),
        "家里突然停电，怎么查询停电原因和恢复时间？",
        "请先确认家中空气开关是否跳闸、电费是否欠费；如是片区停电，可拨打供电服务热线95598或通过“网上国网”APP"
        "查询停电信息和预计恢复时间。",
        ["停电", "95598"],
    ),
    (
        "water",
        ("城乡建设", "城市建设和市政管理", "自来水供应"),
        "今年阶梯水价调整听证会如何报名？",
        "听证会报名已于公告期满截止，报名结果在发改委网站公布。",
        ["水价", "听证会"],
    ),
    (
        "gas",
        ("城乡建设", "城市建设和市政管理", "燃气供应"),
        "燃气费可以通过哪些方式缴纳？",
        "可通过燃气集团微信公众号、支付宝生活缴费、银行代扣或到燃气营业厅缴纳；IC卡表用户需到营业厅或自助终端"
        "充值后插卡。",
        ["燃气费", "缴费"],
    ),
]


def _seed_knowledge(categories: dict[tuple[str, ...], Category], users: dict[str, User], now: datetime) -> int:
    """The demo's articles, through the knowledge service as departments and the supervisor would."""
    today = now.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).date()
    for n, (department, path, question, answer, tags) in enumerate(KNOWLEDGE):
        author = users[f"dept-{department}"]
        expired = n == len(KNOWLEDGE) - 2
        text = knowledge.ArticleText(
            question=question,
            answer=answer,
            category=categories[path].code,
            tags=tags,
            valid_from=today - timedelta(days=90) if expired else None,
            valid_until=today - timedelta(days=30) if expired else None,
        )
        article = knowledge.create_article(author, text)
        knowledge.submit(author, article)
        if n < len(KNOWLEDGE) - 1:
            knowledge.approve(users["supervisor"], article)
    return len(KNOWLEDGE)


def existing_data() -> dict[str, int]:
    """What the demo would clash with: {"departments": 14, ...}, only the non-zero counts."""
    found = {
        "departments": db.session.scalar(select(func.count(Department.id))),
        "districts": db.session.scalar(select(func.count(District.id))),
        "categories": db.session.scalar(select(func.count(Category.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "tickets": db.session.scalar(select(func.count(Ticket.id))),
    }
    return {what: count for what, count in found.items() if count}


def _require_empty() -> None:
    present = ", ".join(f"{count} {what}" for what, count in existing_data().items())
    if present:
        raise Conflict(
            f"The database already has data ({present}); the demo city is only loaded into an empty database."
        )


def _load_geography() -> None:
    """geo (issue 18): the demo city's made-up districts and places (demo_data/README.md)."""
    with (DATA_DIR / "districts.geojson").open(encoding="utf-8") as stream:
        loaded = geo_files.load_districts(stream)
    with (DATA_DIR / "places.csv").open(encoding="utf-8", newline="") as stream:
        places = geo_files.load_places(stream)
    if loaded.errors or places.errors:
        raise ValueError(f"the demo geography does not load: {loaded.errors + places.errors}")


def _remove_city() -> None:
    """Undo a seeding that failed half-way (the database was empty before it began)."""
    db.session.execute(update(Article).values(current_version_id=None))
    for model in (
        ArticleUse,
        ArticleVersion,
        Article,
        Place,  # geo (issue 18)
        DistrictArea,
        RoutingOutcome,
        # Units in a tree (issue 17): the rows its stories, played by the services, write.
        TicketHold,
        OutboundMessage,
        TicketSearch,
        TicketAssist,
        TicketEvent,
        DutyAlert,  # duty rota (值班, issue 17 item 4)
        Ticket,
        DutyShift,
        DutyPattern,
        DutyContact,
        User,
        Category,
        District,
        Department,
    ):
        db.session.execute(delete(model))
    db.session.commit()


def load_category_rows() -> list[tuple[str, str, str]]:
    with open(DATA_DIR / "categories.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)  # header: 一级分类,二级分类,三级分类
        return [(a, b, c) for a, b, c in reader if a in FIRST_LEVELS]


def load_descriptions() -> list[Description]:
    with open(DATA_DIR / "descriptions.csv", encoding="utf-8", newline="") as f:
        return [
            Description(row["level1"], row["level2"], row["level3"], row["text"])
            for row in csv.DictReader(f)
            if row["level1"] in FIRST_LEVELS
        ]


def _build_categories(departments: dict[str, Department]) -> dict[tuple[str, ...], Category]:
    """The tree keyed by its name path, with stable ASCII codes: `urban-construction`,
    `urban-construction-03`, `urban-construction-03-02` (numbered in file order)."""
    nodes: dict[tuple[str, ...], Category] = {}
    children: Counter[tuple[str, ...]] = Counter()

    def node(path: tuple[str, ...], parent: Category | None) -> Category:
        if path not in nodes:
            if parent is None:
                code = FIRST_LEVELS[path[0]]
            else:
                children[path[:-1]] += 1
                code = f"{parent.code}-{children[path[:-1]]:02d}"
            department = departments[ROUTING[path]] if path in ROUTING else None
            nodes[path] = Category(code=code, name=path[-1], parent=parent, default_department=department)
        return nodes[path]

    for first in FIRST_LEVELS:  # first levels in a fixed order, whatever the file's order
        node((first,), None)
    for a, b, c in load_category_rows():
        node((a, b, c), node((a, b), nodes[(a,)]))
    return nodes


def _seed_duty_rota(departments: dict[str, Department], users: dict[str, User]) -> None:
    """Duty rota (值班, issue 17 item 4): each department's staff member on duty on working-day
    nights and on rest days, the supervisor likewise for the city, each with a duty phone (made-up
    numbers), so that the rota page has something to show and urgent tickets out of hours alert."""
    on_duty = [(departments[code].id, users[f"dept-{code}"]) for code in departments]
    on_duty.append((None, users["supervisor"]))
    for serial, (department_id, user) in enumerate(on_duty, start=1):
        db.session.add(DutyContact(user_id=user.id, phone=f"+86139{serial:08d}"))
        for kind, starts, ends in ((DutyPattern.WORKDAY, "18:00", "09:00"), (DutyPattern.RESTDAY, "00:00", "00:00")):
            db.session.add(
                DutyPattern(department_id=department_id, user_id=user.id, day_kind=kind, starts=starts, ends=ends)
            )
    db.session.commit()


def _create_users() -> dict[str, User]:
    """Users of every role, through the same service as `flask users create`."""
    names = [
        ("operator", Role.OPERATOR, None, "接线员 小王"),
        ("operator2", Role.OPERATOR, None, "接线员 小李"),
        ("dispatcher", Role.DISPATCHER, None, "派单员 老陈"),
        ("supervisor", Role.SUPERVISOR, None, "督办 周主任"),
        ("admin", Role.ADMIN, None, "系统管理员"),
    ]
    names += [(f"dept-{code}", Role.DEPARTMENT, code, name) for code, name in DEPARTMENTS]
    return {
        username: create_user(username, role, DEMO_PASSWORD, department, display_name, demo_city=True)
        for username, role, department, display_name in names
    }


class _TicketSeeder:
    """Writes the tickets and their event trails, as the services would have."""

    def __init__(
        self,
        rng: random.Random,
        tz: str,
        now: datetime,
        departments: dict[str, Department],
        districts: list[District],
        categories: dict[tuple[str, ...], Category],
        users: dict[str, User],
    ) -> None:
        self.rng = rng
        self.point_rng = random.Random(18)  # geo: points drawn apart from the story, which stays as it was
        self.boxes: dict[int, tuple[float, float, float, float]] | None = None
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.now = now
        self.departments = departments
        self.districts = districts
        self.categories = categories
        self.users = users
        self.descriptions = load_descriptions()
        self.calendar = work_calendar()
        self.day_minutes = self.calendar.day_minutes
        # A text with no clear subcategory gets a random one under its first level,
        # among those routed like the first level: a branch with its own department
        # (water supply, culture...) is kept for the texts that are about it.
        self.leaves: dict[str, list[tuple[str, ...]]] = {}
        for path in categories:
            if len(path) == 3 and _routing(path) == _routing(path[:1]):
                self.leaves.setdefault(path[0], []).append(path)
        self.unrouted = [d for d in self.descriptions if d.level1 == "商贸旅游" and d.level2 in ("商业贸易", "其他")]
        # The texts each department's categories route to (a text with no subcategory goes as
        # its first level does): every department is given work, whatever the seeding hour.
        self.routed_to: dict[str, list[Description]] = {}
        for description in self.descriptions:
            path = (
                (description.level1, description.level2, description.level3)
                if description.level2
                else (description.level1,)
            )
            department = categories[path].routing_department if path in categories else None
            if department is not None:
                self.routed_to.setdefault(department.code, []).append(description)
        self.callers = self._callers()

    # -- the plan: when each ticket came in, and which stories are forced -------

    def seed(self, count: int) -> Counter[str]:
        plans = self._plans(count)
        built = []
        for plan in plans:
            # Numbers in creation order, so that they sort like the tickets.
            number = next_ticket_number(plan.created_at, self.tz)
            built.append(self._ticket(number, plan))
        # Event ids follow time across tickets, as if written live (`open_history` sorts them).
        intake.open_history([(b.ticket, b.events) for b in built])
        outcomes = [{**outcome, "ticket_id": b.ticket.id} for b in built for outcome in b.outcomes]
        if outcomes:
            db.session.execute(insert(RoutingOutcome), outcomes)
        return Counter(b.ticket.status for b in built)

    def _plans(self, count: int) -> list[_Plan]:
        cutoff = self.now - timedelta(minutes=15)
        times = sorted(self._created_at(cutoff) for _ in range(count))
        plans = [_Plan(created_at=t) for t in times]
        if count >= 2:  # a couple just logged, not yet routed
            for minutes, plan in zip((9, 3), plans[-2:], strict=True):
                plan.created_at = self.now - timedelta(minutes=minutes, seconds=self.rng.randint(0, 50))
                plan.stop = Status.NEW
        if count < 30:
            return plans
        # Make sure every state shows up, whatever day it is: the most recent
        # tickets are stopped part-way, some older ones are stuck (overdue),
        # returned and re-dispatched, or answered at once.
        recent = plans[-9:-2][::-1]
        stops = [Status.PENDING_DISPATCH, Status.DISPATCHED, Status.IN_PROGRESS] * 2 + [Status.PENDING_DISPATCH]
        for position, (plan, stop) in enumerate(zip(recent, stops, strict=True)):
            plan.stop = stop
            # One waits for the dispatcher because its department handed it back.
            plan.force_return = position == 3
            plan.force_unrouted = stop == Status.PENDING_DISPATCH and not plan.force_return
        older = [p for p in plans if timedelta(days=8) < self.now - p.created_at < timedelta(days=DAYS - 2)]
        self.rng.shuffle(older)
        for plan in older[:3]:
            plan.stop = Status.IN_PROGRESS
        for plan in older[3:4]:
            plan.stop = Status.DISPATCHED
        for plan in older[4:7]:
            plan.force_return = True
        for plan in older[7:9]:
            plan.force_direct = True
        # A rarely called department (the gas company) could otherwise have no ticket in the
        # month when the city is seeded at some hours: its desk and its report row stay empty.
        for plan, code in zip(older[9:], sorted(self.routed_to), strict=False):
            plan.department = code
        return plans

    def _created_at(self, cutoff: datetime) -> datetime:
        """A moment in the past four weeks, in office-ish hours, busier on working days."""
        today = self.now.astimezone(self.zone).date()
        days = [today - timedelta(days=n) for n in range(DAYS)]
        weights = [1.0 if is_working_day(day) else 0.45 for day in days]
        for _ in range(100):
            day = self.rng.choices(days, weights)[0]
            hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
            local = datetime.combine(day, time(hour), tzinfo=self.zone) + timedelta(seconds=self.rng.randrange(3600))
            if local <= cutoff:
                return local.astimezone(self.now.tzinfo)
        return cutoff - timedelta(minutes=self.rng.randint(1, 600))

    # -- one ticket ------------------------------------------------------------

    def _ticket(self, number: str, plan: _Plan) -> _Built:
        rng = self.rng
        if plan.force_unrouted:
            description = rng.choice(self.unrouted)
        elif plan.department:
            description = rng.choice(self.routed_to[plan.department])
        else:
            description = rng.choice(self.descriptions)
        path = (description.level1, description.level2, description.level3)
        if not description.level2:
            path = rng.choice(self.leaves[description.level1])
        category = self.categories[path]
        district = rng.choices(self.districts, DISTRICT_WEIGHTS)[0] if rng.random() < 0.95 else None
        text = description.text.replace("{district}", district.name if district else "")
        kind = "consultation" if plan.force_direct else _ticket_type(text, rng)
        phone, name = rng.choice(self.callers)
        operator = self.users["operator" if rng.random() < 0.6 else "operator2"]
        channel = rng.choices([Channel.PHONE, Channel.SMS, Channel.WEB, Channel.VOICEMAIL], [85, 5, 6, 4])[0].value
        fields = {
            "type": kind,
            "category_id": category.id,
            "district_id": district.id if district else None,
            "address": self._address(district) if district and kind != "consultation" else "",
            "description": text,
            "urgency": "urgent" if rng.random() < 0.04 else "normal",
            "confidential": rng.random() < 0.02,
            "caller_phone": phone,
            "caller_name": name,
        }
        if district is not None and kind != "consultation":  # geo (issue 18): a point in its district
            fields |= self._point_in(district)
        ticket = intake.draft(operator, channel, fields, at=plan.created_at, number=number)
        ticket.category = category  # the SLA policy is looked up through it
        story = _Story(self, ticket, plan, category)
        story.record(plan.created_at, operator, "created", None, Status.NEW, {"channel": channel})
        story.play(operator)
        if ticket.is_open and ticket.department_id is not None:
            ticket.sla_level = sla.level_at(ticket, self.now)  # as the periodic SLA sweep would have set it
        return _Built(ticket, story.events, story.outcomes)

    def _point_in(self, district: District) -> dict[str, float]:
        """A point inside the district's outline, from a random stream of its own, so that the
        demo's tickets stay what they were before they had points."""
        if self.boxes is None:
            self.boxes = {
                area.district_id: (area.min_lat, area.min_long, area.max_lat, area.max_long)
                for area in db.session.scalars(select(DistrictArea))
            }
        box = self.boxes.get(district.id)
        if box is None:
            return {}
        south, west, north, east = box
        return {
            "lat": round(self.point_rng.uniform(south, north), 6),
            "long": round(self.point_rng.uniform(west, east), 6),
        }

    def _address(self, district: District) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"{district.name}{rng.choice(ESTATES)}{rng.randint(1, 30)}栋"
        return f"{district.name}{rng.choice(ROADS)}{rng.randint(1, 300)}号"

    def _callers(self) -> list[tuple[str, str]]:
        """A pool of callers; the first few call again and again."""
        pool = []
        for _ in range(240):
            phone = normalise_phone(self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}", "CN")
            surname = self.rng.choice(SURNAMES)
            name = "" if self.rng.random() < 0.06 else surname + self.rng.choice(["先生", "女士"])
            pool.append((phone, name))
        return pool[:12] * 4 + pool  # repeat callers: 12 people make a fifth of the calls

    # -- office time -----------------------------------------------------------

    def later(self, moment: datetime, minutes: float, urgent: bool = False) -> datetime:
        """When a department acts `minutes` after `moment`: in office time (the SLA clock's
        own calendar), or around the clock for an urgent ticket."""
        if urgent:
            return moment + timedelta(minutes=minutes)
        return self.calendar.add_working_minutes(moment, minutes)

    def dispatcher_time(self, moment: datetime) -> datetime:
        """Dispatchers work 8:00–20:00 every day; a ticket waits for the next shift."""
        local = moment.astimezone(self.zone)
        if time(8) <= local.time() < time(20):
            return moment + timedelta(minutes=self.rng.uniform(5, 120))
        day = local.date() if local.time() < time(8) else local.date() + timedelta(days=1)
        start = datetime.combine(day, time(8), tzinfo=self.zone)
        return (start + timedelta(minutes=self.rng.uniform(5, 60))).astimezone(moment.tzinfo)


class _Story:
    """Walks one ticket through its lifecycle, stopping at the present (or at `plan.stop`)."""

    def __init__(self, seeder: _TicketSeeder, ticket: Ticket, plan: _Plan, category: Category) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.ticket = ticket
        self.plan = plan
        self.category = category
        self.events: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        self.at = plan.created_at
        self.urgent = ticket.urgency == "urgent"

    def record(
        self, at: datetime, actor: User | None, kind: str, before: str | None, after: str | None, data: dict
    ) -> None:
        self.events.append(
            {
                "kind": kind,
                "at": at,
                "actor_id": actor.id if actor else None,
                "from_status": before,
                "to_status": after,
                "data": data,
            }
        )
        if after is not None:
            lifecycle.replay(self.ticket, after)
        self.at = at

    def next(self, moment: datetime) -> datetime | None:
        """The time of the next step, or None when it lies in the future (the story ends).
        A forced story squeezes its steps into the time left, so it reaches its stop."""
        if moment <= self.s.now:
            return moment
        if self.plan.stop is None:
            return None
        return self.at + (self.s.now - self.at) * self.rng.uniform(0.2, 0.6)

    def stops_at(self, status: str) -> bool:
        return self.plan.stop == status

    def play(self, operator: User) -> None:
        rng, ticket = self.rng, self.ticket
        if self.stops_at(Status.NEW):
            return
        natural = self.plan.stop is None and not self.plan.force_return
        if self.plan.force_direct or (natural and ticket.type == "consultation" and rng.random() < 0.55):
            answer = rng.choice(DIRECT_ANSWERS)
            ticket.resolution = answer
            ticket.resolved_at = ticket.closed_at = self.at
            self.record(self.at, operator, "direct_answer", Status.NEW, Status.CLOSED, {"answer": answer})
            return
        at = self.next(self.at + timedelta(seconds=rng.uniform(20, 240)))
        if at is None:
            return
        department = self.category.routing_department
        if department is None:
            data = {"by": "none"}  # a code: the timeline puts it into words (labels.routing_reason)
            self.record(at, None, "routed", Status.NEW, Status.PENDING_DISPATCH, data)
            if not self.dispatch(self.dispatcher_choice()):
                return
        else:
            clocks = self.assign(department, at)
            self.ticket.routed_by = "category_default"
            data = {
                "by": "category_default",
                "department": department.code,
                "category": self.category.code,
                "sla": clocks,
            }
            self.record(at, None, "routed", Status.NEW, Status.DISPATCHED, data)
        returned = (self.plan.force_return or rng.random() < 0.04) and not self.stops_at(Status.DISPATCHED)
        if returned and not self.return_and_redispatch():
            return
        self.work()

    def dispatcher_choice(self) -> Department:
        path = tuple(node.name for node in reversed(self.category.lineage()))
        while path and path not in DISPATCHER_CHOICE:
            path = path[:-1]
        return self.s.departments[DISPATCHER_CHOICE.get(path, "commerce")]

    def dispatch(self, department: Department) -> bool:
        if self.stops_at(Status.PENDING_DISPATCH):
            return False
        at = self.next(self.s.dispatcher_time(self.at))
        if at is None:
            return False
        before = self.ticket.status
        clocks = self.assign(department, at)
        self.ticket.routed_by = "dispatcher"
        dispatcher = self.s.users["dispatcher"]
        data = {"department": department.code, "sla": clocks}
        self.record(at, dispatcher, "dispatched", before, Status.DISPATCHED, data)
        return True

    def assign(self, department: Department, at: datetime) -> dict[str, Any]:
        """Hand the ticket to a department and start its SLA clocks, as the services do."""
        ticket = self.ticket
        ticket.department_id = department.id
        ticket.dispatched_at = at
        ticket.accepted_at = None
        self.department = department
        return sla.start_clocks(ticket, at)

    def staff(self) -> User:
        return self.s.users[f"dept-{self.department.code}"]

    def return_and_redispatch(self) -> bool:
        """退单: the department hands it back (before or after signing for it), and the
        dispatcher sends it to the right one."""
        rng, ticket = self.rng, self.ticket
        if rng.random() < 0.4 and not self.accept():  # some are handed back after signing
            return False
        at = self.next(self.s.later(self.at, rng.uniform(30, 600), self.urgent))
        if at is None:
            return False
        wrong = self.department
        right = self.s.departments[rng.choice(RELATED[wrong.code])]
        reason = rng.choice(RETURN_REASONS).format(department=right.name)
        before = ticket.status
        self.outcomes.append(
            {
                "kind": "returned",
                "routed_by": ticket.routed_by or "category_default",
                "rule_id": None,
                "category_id": self.category.id,
                "department_id": wrong.id,
                "at": at,
                "data": {},
            }
        )
        ticket.routed_by = None
        ticket.department_id = None
        ticket.dispatched_at = ticket.accepted_at = None
        sla.stop_clocks(ticket)
        self.record(
            at,
            self.staff(),
            "returned",
            before,
            Status.PENDING_DISPATCH,
            {"reason": reason, "reason_code": "not_our_remit", "department": wrong.code},
        )
        return self.dispatch(right)

    def accept(self) -> bool:
        if self.stops_at(Status.DISPATCHED):
            return False
        # Minutes of office time (calendar time when urgent); the limit is 4 working hours.
        rng, roll = self.rng, self.rng.random()
        if self.urgent:
            minutes = rng.uniform(3, 25)
        elif roll < 0.7:
            minutes = rng.uniform(5, 60)
        elif roll < 0.93:
            minutes = rng.uniform(60, 210)
        else:
            minutes = rng.uniform(240, 960)  # late
        at = self.next(self.s.later(self.at, minutes, self.urgent))
        if at is None:
            return False
        self.ticket.accepted_at = at
        self.record(at, self.staff(), "accepted", Status.DISPATCHED, Status.IN_PROGRESS, {})
        return True

    def work(self) -> None:
        rng, ticket = self.rng, self.ticket
        if ticket.status == Status.DISPATCHED:
            if self.plan.stop is None and rng.random() < 0.02:
                return  # never signed for: overdue once its due time passes
            if not self.accept():
                return
        if self.stops_at(Status.IN_PROGRESS) or (self.plan.stop is None and rng.random() < 0.025):
            return  # still being worked on (and overdue when old)
        # In working days of office time (calendar hours when urgent); the limit is 5 days (24 h).
        roll, day = rng.random(), self.s.day_minutes
        if self.urgent:
            minutes = 60 * (rng.uniform(1, 18) if roll < 0.9 else rng.uniform(26, 48))
        elif roll < 0.25:
            minutes = rng.uniform(30, 240)
        elif roll < 0.7:
            minutes = day * rng.uniform(0.5, 2.5)
        elif roll < 0.88:
            minutes = day * rng.uniform(2.5, 4.5)
        else:
            minutes = day * rng.uniform(5.5, 10)  # late
        resolve_at = self.s.later(self.at, minutes, self.urgent)
        if rng.random() < 0.3:
            note_at = self.at + (min(resolve_at, self.s.now) - self.at) * rng.uniform(0.1, 0.5)
            self.record(note_at, self.staff(), "note", None, None, {"text": rng.choice(NOTES)})
        at = self.next(resolve_at)
        if at is None:
            return
        text = rng.choice(RESOLUTIONS)
        ticket.resolution = text
        ticket.resolved_at = at
        self.record(at, self.staff(), "resolved", Status.IN_PROGRESS, Status.RESOLVED, {"resolution": text})


# Calls per hour of the day (local time): a quiet night, morning and afternoon peaks.
HOUR_WEIGHTS = [0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 7, 6, 3, 4, 6, 6, 5, 4, 2.5, 2.5, 2, 1.5, 1, 0.5]

_TYPE_HINTS = [
    ("report", re.compile(r"举报|违法|非法|偷排|传销")),
    ("consultation", re.compile(r"咨询|请问|怎么办理|如何|能否|是否|吗[？?]|哪些|什么时候")),
    ("suggestion", re.compile(r"建议|希望|呼吁")),
    ("praise", re.compile(r"感谢|表扬|点赞")),
    ("complaint", re.compile(r"投诉|不作为|拒绝|拖欠|扰民|乱收费")),
]


def _routing(path: tuple[str, ...]) -> str | None:
    """The department code a category path routes to (the nearest entry up the path)."""
    while path and path not in ROUTING:
        path = path[:-1]
    return ROUTING.get(path)


def _ticket_type(text: str, rng: random.Random) -> str:
    """What an operator would file the call as, judging by its words."""
    for kind, pattern in _TYPE_HINTS:
        if pattern.search(text[:60]):
            return kind
    return rng.choices(["help", "complaint"], [55, 45])[0]
