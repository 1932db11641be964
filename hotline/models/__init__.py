"""The models, one module per aggregate; importing this registers them all."""

# geo (issue 18 item 4): areas drawn on the supervisors' map
from hotline.models.area import HotspotArea

# attachments (issue 18 item 5)
from hotline.models.attachment import Attachment, AttachmentKind
from hotline.models.audit import FailedLogin, RoleChange, RoleChangeAction, ViewChannel, ViewKind, ViewRecord
from hotline.models.calendar import CalendarDay, CalendarYear
from hotline.models.category import Category
from hotline.models.classifier import RoutingClassifier

# Contact with the citizen and callback (issue 17 items 3 and 5).
from hotline.models.contact import (
    Call,
    Caller,
    InboundMessage,
    OutboundMessage,
    TicketContact,  # noqa: E402
)
from hotline.models.department import Department, District

# duty rota (值班, issue 17 item 4)
from hotline.models.duty import DutyAlert, DutyContact, DutyPattern, DutyShift

# geo (issue 18): district polygons and the gazetteer
from hotline.models.geo import DistrictArea, Place, PlaceKind
from hotline.models.hotspot import Hotspot, HotspotFollower, HotspotStatus, HotspotTicket, HotspotWindow
from hotline.models.knowledge import Article, ArticleStatus, ArticleUse, ArticleVersion, KnowledgeRevision, VersionState
from hotline.models.report import MisroutingFact, ReportDirtyDay, ReportFact, ReportPeriodFact, ReportState
from hotline.models.routing import ReturnReason, ReturnRequest, RoutingOutcome, RoutingRule, TicketAssist
from hotline.models.search import TicketSearch
from hotline.models.sla import ExtensionRequest, Notice, SlaPolicy
from hotline.models.ticket import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Channel,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from hotline.models.tree import HoldOutcome, TicketHold  # units in a tree (issue 17)
from hotline.models.user import ApiToken, LoginSession, Role, User
from hotline.models.web_report import PhoneCode, WebReport  # the citizen's web reports (issue 18)

__all__ = [
    "PhoneCode",
    "WebReport",
    "CHANNELS",
    "TICKET_TYPES",
    "URGENCIES",
    "ApiToken",
    "Article",
    "Attachment",
    "AttachmentKind",
    "ArticleStatus",
    "ArticleUse",
    "ArticleVersion",
    "CalendarDay",
    "CalendarYear",
    "Call",
    "Caller",
    "Category",
    "Channel",
    "Department",
    "District",
    # duty rota (值班, issue 17 item 4)
    "DutyAlert",
    "DutyContact",
    "DutyPattern",
    "DutyShift",
    # geo (issue 18)
    "DistrictArea",
    "Place",
    "PlaceKind",
    "ExtensionRequest",
    "Hotspot",
    "HotspotFollower",
    "HotspotArea",
    "HotspotStatus",
    "HotspotTicket",
    "HotspotWindow",
    "InboundMessage",
    "KnowledgeRevision",
    "LoginSession",
    "Notice",
    "OutboundMessage",
    "SlaPolicy",
    "ReturnReason",
    "ReturnRequest",
    "Role",
    "FailedLogin",
    "RoleChange",
    "RoleChangeAction",
    "ReportDirtyDay",
    "ReportFact",
    "ReportPeriodFact",
    "ReportState",
    "MisroutingFact",
    "RoutingClassifier",
    "RoutingOutcome",
    "RoutingRule",
    "Status",
    "Ticket",
    "TicketAssist",
    "TicketContact",  # contact with the citizen (issue 17)
    "TicketCounter",
    "TicketEvent",
    "TicketSearch",
    "User",
    "ViewChannel",
    "ViewKind",
    "ViewRecord",
    "VersionState",
    # Units in a tree (issue 17)
    "HoldOutcome",
    "TicketHold",
]
