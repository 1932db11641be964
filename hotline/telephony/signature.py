"""Twilio signs every webhook request (X-Twilio-Signature): a request that fails the check is
refused with 403 before anything is read or changed.

The signature covers the URL Twilio called and the POST parameters. Behind a proxy the
URL the app sees is not that one: HOTLINE_PUBLIC_URL (the site's public base URL) then
replaces scheme, host and any prefix. Without TWILIO_AUTH_TOKEN nothing can be checked,
so every webhook is refused (and the log says why).

Only form-encoded bodies are taken (415 otherwise, before the signature is checked): the
signature covers form parameters only, so a multipart or JSON body would pass signed by
its URL alone while its fields went unchecked into the views. Twilio posts form-encoded
bodies to these webhooks; a GET (none is routed) would be signed over its URL and query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from hotline.telephony.webhook_input import FORM_TYPE, unsupported_media_type

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


def twilio_signed(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        if not token:
            log.warning(
                "Twilio webhook %s refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked", request.path
            )
            abort(403)
        if not _form_or_no_body():
            log.warning("Twilio webhook %s refused: a %s body is not signed", request.path, request.mimetype)
            return unsupported_media_type()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = signed_url()
        if not signature or not RequestValidator(token).validate(url, _params(), signature):
            log.warning("Twilio webhook %s refused: bad or missing %s for %s", request.path, SIGNATURE_HEADER, url)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def signed_url() -> str:
    """The URL Twilio requested: the request's own, or the public base URL + path + query."""
    public = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    if not public:
        return request.url
    query = request.query_string.decode("latin-1")
    return public + request.path + (f"?{query}" if query else "")


def _form_or_no_body() -> bool:
    """A form-encoded body, or none at all (a GET, which Twilio signs by its URL and query)."""
    return request.mimetype == FORM_TYPE or not (request.mimetype or request.content_length)


def _params():
    # Twilio signs form posts with their parameters and a GET by its URL (query included).
    return request.form if request.mimetype == FORM_TYPE else {}
