"""The ticket described once (issue 15, item 6): its marshmallow schemas write its JSON and are
its OpenAPI components; what an answer holds is what the component lists, in its order."""

from __future__ import annotations

from hotline.api import openapi_schemas, serializers
from hotline.api.ticket_schemas import (
    COMPONENTS,
    NEW_TICKET,
    TICKET,
    TICKET_INPUT,
    TICKET_SUMMARY,
    EventSchema,
    NotificationSchema,
    SeenEvent,
    SeenMessage,
    Shown,
)


def test_each_ticket_component_is_its_schema(client):
    components = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name, schema in {**{n: s for n, (s, _) in COMPONENTS.items()}, "TicketInput": TICKET_INPUT}.items():
        component = components[name]
        assert list(component["properties"]) == list(schema.fields), name
        assert set(component.get("required", [])) == {n for n, f in schema.fields.items() if f.required}, name
        assert component["additionalProperties"] is False, name
    # Written nowhere else: no hand-written dicts for the ticket, no dict-shaping functions.
    assert not {"TicketSummary", "Ticket", "NewTicket", "Event"} & set(openapi_schemas.SCHEMAS)
    assert not hasattr(serializers, "ticket_json")


def test_every_answer_holds_its_components_fields_in_order(api, city, routed):
    operator = api(city.operator)
    whole = operator.get(f"/api/v1/tickets/{routed.number}").get_json()
    assert list(whole) == list(TICKET.fields)
    assert list(whole["events"][0]) == ["kind", "at", "actor", "from_status", "to_status", "data"]
    listed = operator.get("/api/v1/tickets").get_json()["tickets"]
    assert listed and all(list(item) == list(TICKET_SUMMARY.fields) for item in listed)
    body = {"caller_phone": "13800138000", "type": "complaint", "category": "potholes", "description": "坑"}
    created = operator.post("/api/v1/tickets", json=body)
    assert created.status_code == 201, created.get_json()
    assert list(created.get_json()) == list(NEW_TICKET.fields)


def test_department_staff_see_the_caller_masked_in_every_shape(api, city, routed):
    staff = api(city.roads_staff)
    whole = staff.get(f"/api/v1/tickets/{routed.number}").get_json()
    listed = staff.get("/api/v1/tickets").get_json()["tickets"]
    assert "****" in whole["caller_phone"]
    assert all("****" in item["caller_phone"] for item in listed)
    assert whole["notifications"] and all("****" in text["to"] for text in whole["notifications"])


def test_what_is_worked_out_for_the_viewer_is_never_read_from_the_row():
    """A field named as one of the wrapper's slots must read the wrapper (the masked number, the
    merge the viewer may not follow), not the row's column of the same name."""
    for schema, wrapper in (
        (TICKET, Shown),
        (NEW_TICKET, Shown),
        (EventSchema(), SeenEvent),
        (NotificationSchema(), SeenMessage),
    ):
        for name, field in schema.fields.items():
            if name in wrapper.OWN:
                assert not type(field).__name__.endswith(("Column", "FromRow")), (type(schema).__name__, name)
