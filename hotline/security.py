"""Security headers on every answer: a content security policy and its companions.

Set by hand rather than with Flask-Talisman: the policy is a few lines, Talisman's HTTPS
redirects would fight the proxy that terminates TLS. The machine-facing paths (Twilio,
Open311, the API: `hotline.machine_paths`) get the short set meant for answers that are not
pages (`MACHINE_HEADERS`).

The policy, and why:
- `default-src 'self'`: everything (Bootstrap, our CSS and scripts, fetches) is served by the
  hotline itself (BOOTSTRAP_SERVE_LOCAL); nothing loads from another site.
- `script-src 'self'`: no inline script and no eval; the pages' scripts are files in static/.
- `style-src 'self' 'unsafe-inline'`: the reports' pygal charts are inline SVG that carry their
  own <style> element, and a few templates set a width with style= (SLA progress bars, the
  public pages). Inline styles cannot run code; scripts stay locked down.
- `img-src 'self' data:`: Bootstrap's CSS draws its icons (select arrows, the menu toggler)
  as data: SVG images.
- `frame-ancestors 'none'` (and X-Frame-Options for old browsers): no page in someone else's
  frame, so no click-jacking of the action buttons.
- `form-action 'self'`, `base-uri 'self'`, `object-src 'none'`: no form posted elsewhere, no
  <base> trick, no plugins.
HSTS is sent only over HTTPS (behind a proxy, with HOTLINE_TRUSTED_PROXIES or HOTLINE_PROXY_FIX set so that the request
knows it came over HTTPS): a development server on plain HTTP must not pin itself to HTTPS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, request, session
from flask_login import current_user

from hotline import response_headers
from hotline.machine_paths import is_machine_path
from hotline.services.accounts import login_sessions

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Ticket numbers are in our addresses: another site never learns them from a link.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The machines' answers (hotline.machine_paths: JSON, XML, TwiML, an attachment's bytes) are
# never pages: OWASP's REST Security Cheat Sheet's set. Nothing they carry may load anything
# or be framed (an uploaded SVG opened from the API runs no script); the page-only companions
# (referrer, permissions, opener) have nothing to act on.
MACHINE_CSP = "default-src 'none'; frame-ancestors 'none'"
MACHINE_HEADERS = {
    "Content-Security-Policy": MACHINE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"
# (lower-cased name, name, value): one pass over the answer's headers finds those a view set itself.
_DEFAULTS = tuple((name.lower(), name, value) for name, value in HEADERS.items())
_MACHINE_DEFAULTS = tuple((name.lower(), name, value) for name, value in MACHINE_HEADERS.items())


def init_app(app: Flask) -> None:
    # geo (issue 18): a configured map tile server's origin may serve the maps' images.
    tiles = _origin(app.config.get("HOTLINE_MAP_TILES_URL") or "")
    if tiles:
        policy = CSP.replace("img-src 'self' data:", f"img-src 'self' data: {tiles}")
        app.extensions["hotline_headers"] = tuple(
            (lower, name, policy if lower == "content-security-policy" else value) for lower, name, value in _DEFAULTS
        )
    app.after_request(_add_headers)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    # {s}.tile.example.org: any subdomain the template fills in
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


# Every name the hook may add: an answer that set none of them (nearly all) gets a list made once.
_OURS = frozenset(lower for lower, _name, _value in _DEFAULTS) | {"strict-transport-security", "cache-control"}


def _add_headers(response: Response) -> Response:
    # What a view set itself stays (Headers.setdefault, one pass instead of one scan per header).
    headers = response.headers
    present = response_headers.present(headers)
    current = request._get_current_object()  # the proxies once, not once per attribute
    app = current_app._get_current_object()
    machine = is_machine_path(current.path)
    pages = app.extensions.get("hotline_headers", _DEFAULTS)  # geo: the tile server in the pages' CSP
    defaults = _MACHINE_DEFAULTS if machine else pages
    no_store = _no_store(current, machine)
    if present.isdisjoint(_OURS):
        # The common answer: the whole list for its kind (machine or page, HTTPS or not, stored
        # or not), made once.
        kind = (machine, current.is_secure, no_store)
        lists = app.extensions.get("hotline_header_lists")
        if lists is None or lists[None] is not pages:  # first answer, or the pages' defaults changed
            lists = app.extensions["hotline_header_lists"] = {None: pages}
        pairs = lists.get(kind)
        if pairs is None:
            pairs = lists[kind] = _header_list(defaults, *kind[1:])
        response_headers.append(headers, pairs)
        return response
    missing = [(name, value) for lower, name, value in defaults if lower not in present]
    if current.is_secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", HSTS))
    if no_store:
        if "cache-control" in present:
            headers["Cache-Control"] = "no-store"
        else:
            missing.append(("Cache-Control", "no-store"))
    response_headers.append(headers, missing)
    return response


def _header_list(defaults: tuple, secure: bool, no_store: bool) -> tuple[tuple[str, str], ...]:
    """Every header the hook adds to an answer of this kind that set none of them itself."""
    pairs = [(name, value) for _lower, name, value in defaults]
    if secure:
        pairs.append(("Strict-Transport-Security", HSTS))
    if no_store:
        pairs.append(("Cache-Control", "no-store"))
    return tuple(pairs)


def _no_store(current: Request, machine: bool) -> bool:
    # Pages for signed-in staff carry callers' data: no copy in the browser's or a proxy's cache
    # (the back button after logging out must not show them). Static files stay cacheable.
    # The API's answers (bearer token, no session) carry the same data.
    # Open311 and Twilio answer alike whoever's browser asks (their session is not read).
    if machine:
        return current.path.startswith("/api/")
    return current.endpoint != "static" and _signed_in()


def _signed_in() -> bool:
    """Whether the request is signed in, without loading the user when nothing can have signed
    it in: a request whose session carries no server-side session key is anonymous (the user
    loader needs the key), and one that carries it has its user loaded before the view
    (`hotline.web.auth`); `current_user` is asked only when neither says."""
    user = g._get_current_object().get("_login_user")  # Flask-Login's user of this request, once loaded
    if user is None:
        if not session._get_current_object().get(login_sessions.KEY):
            return False
        user = current_user
    # Not `is_authenticated`: it reads the user's `active`, which reloads the user from the
    # database when the view's commit expired it. A user the loader gave was active then.
    return not getattr(user, "is_anonymous", True)
