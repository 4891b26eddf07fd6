"""The blueprint every API area defines its routes on.

Sanic's own, except that a route's error format is `json` unless said otherwise. Left
to "auto", Sanic decides it for each route when it is defined by reading the handler's
source (`inspect.getsource`) and parsing it (`ast`): about 1 ms per route, 50 ms of
every process's start for our routes, the main process's included. The answer is not
used here: every error leaves through `ApiErrorHandler`, which writes the JSON envelope
whatever the route's format (and the pages answer their own errors as pages).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint as SanicBlueprint

ERROR_FORMAT = "json"


class Blueprint(SanicBlueprint):
    def route(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("error_format") in (None, "auto"):
            kwargs["error_format"] = ERROR_FORMAT
        return super().route(*args, **kwargs)
