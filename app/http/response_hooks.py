"""Our response middleware, as one.

Sanic dispatches two signals around every middleware it runs (3-4 µs each here), so
the app registers a single synchronous response middleware that runs its hooks in
order: request id, observation (metrics, request log), then compression, which must
see the final body and headers.

Routes in `bypass` get none of them: the liveness probe, which orchestrators call every
few seconds for a fixed 15-byte body, is answered as bare Sanic would (no request id,
no log line, no metric), unless LOG_PROBES asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.http.request import REQUESTS

ResponseHook = Callable[[Request, BaseHTTPResponse], None]


def chain(hooks: Sequence[ResponseHook], *, bypass: Collection[str] = ()) -> ResponseHook:
    """One middleware that runs `hooks` in order, except on the routes (paths as Sanic
    stores them, without the leading slash) in `bypass`."""
    ordered = tuple(hooks)
    skipped = frozenset(bypass)

    def run_response_hooks(request: Request, response: BaseHTTPResponse) -> None:
        route = request.route
        if route is not None and route.path in skipped:
            REQUESTS.answered += 1  # (the observer counts the others)
            return
        for hook in ordered:
            hook(request, response)

    return run_response_hooks
