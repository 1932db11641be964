"""Twilio's webhooks under /twilio: incoming texts and delivery reports (and, later, calls).

Named `telephony`, not `twilio`: a package of that name would shadow the library.
Every view is wrapped in `signature.twilio_signed`; the blueprint is exempt from
CSRF, since Twilio signs its requests instead of carrying a session.
"""

from __future__ import annotations

# Imported for their side effect: they attach routes to `bp`.
from hotline.telephony import (  # noqa: F401
    contact_calls,  # issue 17: calls to citizens
    sms,
    voice,
)
from hotline.telephony.blueprint import bp  # noqa: F401  (create_app registers it)
