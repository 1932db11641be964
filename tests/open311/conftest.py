"""Open311 is public too: the same fixtures as the status page (fresh language and limits, no queue)."""

from tests.public.conftest import _fresh_request_caches, _no_routing_queue  # noqa: F401
