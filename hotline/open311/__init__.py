"""Open311 GeoReport v2 at /open311/v2/: what existing 311 apps and clients speak.

Discovery, services (the category tree), service definitions, requests (filed
with a user's API token as `api_key`, read by anyone), single requests and
tokens; JSON or XML by the URL's extension; errors as the spec's
`[{"code", "description"}]`. A request filed here is an ordinary ticket with
channel `open311`. docs/open311.md is the reference.
"""

# Imported for their side effect: they attach routes and handlers to `bp`.
from hotline.open311 import views  # noqa: F401
from hotline.open311.blueprint import bp  # noqa: F401  (create_app registers it)
