"""Per-request timing, feeding the metrics and the one-line-per-request log.

One synchronous response hook does both: the start time and the in-flight count come
from `ApiRequest`, so there is no request middleware (each middleware costs Sanic two
signal dispatches per request), and the labelled metric children are looked up once
per (method, route, status) instead of under the client library's lock every time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from typing import Any

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.http.request import ApiRequest
from app.http.request_id import request_id
from app.http.response_hooks import ResponseHook
from app.observability.logging.request_log import RequestLog
from app.observability.metrics import Instruments

request_log = RequestLog(logging.getLogger("onramp.access"))

PROBE_ROUTES = ("/health", "/ready")
"""Called every few seconds by load balancers and orchestrators: a line and a count
each time would fill the log and the metrics with nothing (LOG_PROBES puts them back)."""


def route_of(request: Request) -> str:
    """The route template (`/api/v1/vendors/<vendor_id:uuid>`), never the raw path,
    so labels and log fields stay few and carry no identifiers."""
    return "/" + request.route.path.lstrip("/") if request.route else "unmatched"


def make_observer(
    metrics: Instruments | None, *, log_requests: bool, quiet_routes: Collection[str] = ()
) -> ResponseHook:
    # Keys are (method, route template, status): bounded by the app's routes.
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
    quiet = frozenset(quiet_routes)

    def observe(request: Request, response: BaseHTTPResponse) -> None:
        ApiRequest.answered += 1
        route = route_of(request)
        if route in quiet:
            return
        started: float | None = getattr(request, "started", None)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        status = response.status
        method = request.method
        if metrics is not None:
            key = (method, route, status)
            pair = children.get(key)
            if pair is None:
                pair = (
                    metrics.requests.labels(method, route, str(status)),
                    metrics.latency.labels(method, route),
                )
                children[key] = pair
            pair[0].inc()
            pair[1].observe(elapsed)
        if log_requests:
            request_log.write(request_id(request), method, route, status, round(elapsed * 1000, 2))

    return observe
