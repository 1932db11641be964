"""GeoReport v2's two formats: JSON and XML, chosen by the URL's extension.

The same Python structure renders as both: a dict becomes an element per key, a
list becomes an element per item named after its container (`services` holds
`service`s, `attributes` hold `attribute`s, ...), None an empty element, a bool
`true`/`false`. Errors are the spec's list of `{code, description}`, in XML
`<errors><error><code>…</code><description>…</description></error></errors>`.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, current_app

from hotline.api.responses import json_response

FORMATS = ("json", "xml")
XML_MIMETYPE = "text/xml"

# The tag of each item of a list, by the tag of the list.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

# Characters XML 1.0 cannot carry, not even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(data: Any, fmt: str, root: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`data` as JSON, or as XML under a `root` element."""
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element(root, data), encoding="unicode") + "\n"
        return current_app.response_class(
            body.encode("utf-8"), status=status, headers=headers, content_type=f"{XML_MIMETYPE}; charset=utf-8"
        )
    return json_response(data, status, headers)


def error(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    return render([{"code": status, "description": description}], fmt, "errors", status, headers)


def element(tag: str, value: Any) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            node.append(element(key, item))
    elif isinstance(value, list | tuple):
        child = ITEM_TAGS.get(tag, "item")
        for item in value:
            node.append(element(child, item))
    elif value is None:
        pass
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = _NOT_XML.sub("", str(value))
    return node


def format_of_path(path: str) -> str:
    """The format a path asks for, for answering errors before any view has run: JSON unless .xml."""
    return "xml" if path.lower().endswith(".xml") else "json"
