"""Per-request observation: the request metrics and the one-line-per-request log.

One synchronous step of the response middleware does both: the start time is the
request context's (`request.ctx.started`), so there is no request middleware.
What is the same for every request of one (method, route template, status)
is worked out when that combination is first seen: its metric tally and the fixed text
of its log line. A request then costs a lookup, a clock read, three additions and one
formatted string.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

from sanic.response import BaseHTTPResponse

from app.http.request import OnrampRequest
from app.http.request_id import request_id
from app.http.response_hooks import ResponseHook
from app.observability.logging.request_log import PreparedLine, RequestLog
from app.observability.metrics import RequestTally, RouteTally

ACCESS_LOGGER = "onramp.access"

UNMATCHED = "unmatched"


def route_of(request: OnrampRequest) -> str:
    """The route template (`/api/v1/vendors/<vendor_id:uuid>`), never the raw path,
    so labels and log fields stay few and carry no identifiers."""
    return "/" + request.route.path.lstrip("/") if request.route else UNMATCHED


class _Observed:
    """What is fixed for the requests of one (method, route template, status)."""

    __slots__ = ("keep_duration", "line", "tally")

    def __init__(self, tally: RouteTally | None, line: PreparedLine | None) -> None:
        self.tally = tally
        self.keep_duration = tally.durations.append if tally is not None else None
        self.line = line


def make_observer(
    tally: RequestTally | None, *, log_requests: bool, quiet_routes: Collection[str] = ()
) -> ResponseHook:
    """The hook for one app: `tally` (None: metrics off) and the request log lines."""
    log = RequestLog(logging.getLogger(ACCESS_LOGGER)) if log_requests else None
    quiet = frozenset(quiet_routes)
    batched = tally is not None and tally.batched
    # Keys are (method, route path, status): bounded by the app's routes.
    known: dict[tuple[str, str | None, int], _Observed | None] = {}

    def first_seen(request: OnrampRequest, status: int) -> _Observed | None:
        route = route_of(request)
        if route in quiet:
            return None
        method = request.method
        return _Observed(
            tally.route(method, route, status) if tally is not None else None,
            log.prepare(method, route, status) if log is not None else None,
        )

    def observe(request: OnrampRequest, response: BaseHTTPResponse) -> None:
        route = request.route
        status = response.status
        key = (request.method, route.path if route is not None else None, status)
        try:
            observed = known[key]
        except KeyError:
            observed = known[key] = first_seen(request, status)
        if observed is None:
            return
        elapsed = time.perf_counter() - request.ctx.started
        keep_duration = observed.keep_duration
        if keep_duration is not None:
            if batched:
                keep_duration(elapsed)
            elif tally is not None and observed.tally is not None:
                tally.observe_now(observed.tally, elapsed)
        line = observed.line
        if line is not None and log is not None:
            # Milliseconds to two decimals (round(x, 2) costs a decimal conversion).
            log.write_prepared(line, request_id(request), int(elapsed * 100_000 + 0.5) / 100)

    return observe
