"""What every response gets before it is sent: one Sanic response middleware.

In order: the request id and the security headers, `Cache-Control: no-store` on what
is personal, observation (request metrics and the request log line), then
compression, which must see the final body and headers. Each step is one call into the
module that owns it (`app.http.request_id`, `app.http.security_headers`,
`app.observability.requests`, `app.http.compression`), written out in one function
rather than registered as several middleware: Sanic dispatches two signals around each
middleware it runs.

Every response carries its `X-Request-ID`, the liveness probe's included. The probe
routes in `bypass` get nothing else (no log line, no metric, no compression of a
15-byte body), unless LOG_PROBES asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.http.request import REQUESTS, OnrampRequest, as_onramp_request
from app.http.request_id import HEADER, request_id
from app.http.security_headers import NO_STORE

ResponseHook = Callable[[OnrampRequest, BaseHTTPResponse], None]


def make_finisher(
    *,
    security_headers: Sequence[tuple[str, str]],
    observe: ResponseHook | None,
    compress: ResponseHook | None,
    compress_min_size: int,
    bypass: Collection[str] = (),
) -> Callable[[Request, BaseHTTPResponse], None]:
    """What the app does to every response. `compress` is called only for a body of at
    least `compress_min_size` bytes (it decides the rest); `bypass` lists route paths
    (`/health`)."""
    pairs = tuple(security_headers)
    skipped = frozenset(path.lstrip("/") for path in bypass)  # as Sanic stores them
    (no_store_name, no_store_value), *_ = NO_STORE.items()

    def finish_response(sanic_request: Request, response: BaseHTTPResponse) -> None:
        request = as_onramp_request(sanic_request)  # Sanic types middleware with its base
        REQUESTS.answered += 1
        headers = response.headers
        headers[HEADER] = request_id(request)
        route = request.route
        if route is not None and route.path in skipped:
            return
        for name, value in pairs:
            headers.setdefault(name, value)  # a response that set its own keeps it
        if request.ctx.principal is not None:
            # Answered for one caller: no cache on the way may keep it or serve it on.
            headers[no_store_name] = no_store_value
        if observe is not None:
            observe(request, response)
        if compress is not None:
            body = getattr(response, "body", None)  # a streamed response has none
            if body and len(body) >= compress_min_size:
                compress(request, response)

    return finish_response
