"""The citizen's side of the web: pages anyone may open, without logging in.

`/status`: a citizen gives the ticket number and the last four digits of their
phone number and sees where their request stands (status.py).
`/report` and `/board`: the citizen's own web report (网上留言) and the public board (report.py).
"""

# Imported for their side effect: they attach routes and handlers to `bp`.
from hotline.public import report, status  # noqa: F401
from hotline.public.blueprint import bp  # noqa: F401  (create_app registers it)
