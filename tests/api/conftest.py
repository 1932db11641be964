from __future__ import annotations

import pytest

from hotline.models import Ticket
from hotline.services.platform import queueing
from tests import factories


@pytest.fixture(autouse=True)
def _no_routing_queue(monkeypatch):
    """The API tests route by calling the service; nothing goes to Redis, even when `make test` runs one."""
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)


@pytest.fixture
def routed(city) -> Ticket:
    """A pothole complaint, routed by its category to roads: status dispatched."""
    return factories.make_routed_ticket(city.operator)
