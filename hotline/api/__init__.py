"""The JSON API under /api/v1: what a telephony (CTI) system or a script uses.

Bearer-token auth per user, the same role checks as the pages, and JSON errors
`{"error": code, "detail": message}` for every failure under /api/. The views
parse, call one service and render; docs/api.md is the reference.
"""

# Imported for their side effect: they attach routes and handlers to `bp`.
from hotline.api import (  # noqa: F401
    actions,
    areas,  # hotspot areas (issue 18 item 4)
    attachment_publicity,  # a photo marked public or not (issue 18 item 5)
    attachments,  # attachments (issue 18 item 5)
    calendar,
    contacts,  # contact with the citizen and callback (issue 17)
    deadlines,
    directory,
    duty,  # duty rota (值班, issue 17 item 4)
    errors,
    geo,  # geo (issue 18): tickets near a point, the gazetteer
    knowledge,
    merging,
    openapi,
    ping,
    policies,
    reports,
    routing,
    search,
    tickets,
)
from hotline.api.blueprint import bp  # noqa: F401  (create_app registers it)
