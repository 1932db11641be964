"""A photo an Open311 client names by `media_url` (GeoReport v2's field), fetched and kept as an
attachment (issue 18 item 5: "Open311 clients (`media_url` or upload) attach photos").

A URL a client sends must never make the server fetch whatever it names (the hotline's own
network, a cloud's metadata address): only hosts the city lists in HOTLINE_OPEN311_MEDIA_HOSTS
(the photo services of the apps it works with, `host` or `host:port`) are fetched, over http or
https, without following redirects, within a short timeout and no further than the attachments'
size limit. With no host listed, `media_url` is accepted and ignored, as before."""

from __future__ import annotations

import requests
import urllib3
from flask import current_app
from flask_babel import gettext as _

from hotline.services.errors import InvalidInput
from hotline.services.ticketing import attachments

TIMEOUT = (5, 15)  # connect, read (seconds): the client waits for its answer meanwhile
FIELD = "media_url"


def allowed_hosts() -> frozenset[str]:
    listed = current_app.config.get("HOTLINE_OPEN311_MEDIA_HOSTS") or ""
    return frozenset(host.strip().lower() for host in listed.split(",") if host.strip())


def enabled() -> bool:
    return bool(allowed_hosts())


def fetch(url: str) -> bytes:
    """The bytes at `url`, on a listed host; InvalidInput (400) for a URL not fetched or an
    answer that is no file, attachments.TooLarge (413) above the limit."""
    try:
        parsed = requests.utils.urlparse(url.strip())
        port = parsed.port
    except ValueError:
        raise InvalidInput(_("media_url is not a web address."), field=FIELD) from None
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host:
        raise InvalidInput(_("media_url must be an http or https address."), field=FIELD)
    named = f"{host}:{port}" if port else host
    hosts = allowed_hosts()
    if named not in hosts and host not in hosts:
        raise InvalidInput(
            _(
                "media_url must be on a host the hotline fetches photos from: %(hosts)s.",
                hosts=", ".join(sorted(hosts)),
            ),
            field=FIELD,
        )
    try:
        with requests.get(url.strip(), timeout=TIMEOUT, stream=True, allow_redirects=False) as response:
            if response.status_code != 200:
                raise InvalidInput(
                    _("The photo at media_url could not be fetched (HTTP %(status)d).", status=response.status_code),
                    field=FIELD,
                )
            response.raw.decode_content = True  # as sent, without the transfer's compression
            return attachments.read_limited(response.raw)
    except (requests.RequestException, urllib3.exceptions.HTTPError):
        raise InvalidInput(
            _("The photo at media_url could not be fetched: %(host)s did not answer.", host=named), field=FIELD
        ) from None
