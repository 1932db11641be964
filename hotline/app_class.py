"""The application class: Flask, with the check of each hook for a coroutine made once.

Flask asks `inspect.iscoroutinefunction` of every before- and after-request function, the view
and the teardown functions again on every request (`Flask.ensure_sync`): a dozen checks per
request here, the same answer each time. The answer is kept per function (issue 15, "Keep": the
fixed cost of a request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from hotline.request_limit import BoundedRequest
from hotline.response_headers import HotlineResponse

_KEPT = 4096  # functions whose answer is kept: hooks and views are a few hundred


class HotlineFlask(Flask):
    response_class = HotlineResponse  # the server's copy of the headers without a second check
    request_class = BoundedRequest  # a view's body limit never above the server's (request_limit.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        try:
            return self._sync[func]
        except KeyError:
            made = super().ensure_sync(func)
            if len(self._sync) < _KEPT:
                self._sync[func] = made
            return made
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
