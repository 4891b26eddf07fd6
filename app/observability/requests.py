"""Per-request timing, feeding the metrics and the one-line-per-request log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.observability import metrics

access_logger = logging.getLogger("onramp.access")

RequestHook = Callable[[Request], Coroutine[Any, Any, None]]
ResponseHook = Callable[[Request, BaseHTTPResponse], Coroutine[Any, Any, None]]


def route_of(request: Request) -> str:
    """The route template (`/api/v1/vendors/<vendor_id:uuid>`), never the raw path,
    so labels and log fields stay few and carry no identifiers."""
    return "/" + request.route.path.lstrip("/") if request.route else "unmatched"


def make_observers(*, record_metrics: bool, log_requests: bool) -> tuple[RequestHook, ResponseHook]:
    async def on_request(request: Request) -> None:
        request.ctx.started = time.perf_counter()
        if record_metrics:
            metrics.IN_FLIGHT.inc()

    async def on_response(request: Request, response: BaseHTTPResponse) -> None:
        started: float | None = getattr(request.ctx, "started", None)
        request.ctx.started = None
        elapsed = time.perf_counter() - started if started is not None else 0.0
        route = route_of(request)
        status = response.status
        if record_metrics:
            if started is not None:
                metrics.IN_FLIGHT.dec()
            metrics.REQUESTS.labels(request.method, route, str(status)).inc()
            metrics.LATENCY.labels(request.method, route).observe(elapsed)
        if log_requests:
            access_logger.info(
                "%s %s %d %.1fms",
                request.method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )

    return on_request, on_response
