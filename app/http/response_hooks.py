"""What every response gets before it is sent, in one function (`ApiRequest.respond`).

In order: the request id and the security headers, observation (request metrics and
the request log line), then compression, which must see the final body and headers.
Each step is one call into the module that owns it (`app.http.request_id`,
`app.http.security_headers`, `app.observability.requests`, `app.http.compression`).

One function with the steps written out, not a list of hooks run in a loop: a loaded
worker shares its two cores with the load and PostgreSQL, so what a request runs is
cold in the CPU's caches on every request, and every Python function it enters costs
1-3 µs of CPU the first time (per-thread CPU clock: the former request-id hook took
3.7 µs on its first call in a request and 0.5 µs on its second). For the same reason
it is no Sanic middleware (see `ApiRequest.respond`).

Routes in `bypass` get none of it: the liveness probe, which orchestrators call every
few seconds for a fixed 15-byte body, is answered as bare Sanic would (no request id,
no log line, no metric), unless LOG_PROBES asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.http.request import REQUESTS
from app.http.request_id import HEADER, request_id

ResponseHook = Callable[[Request, BaseHTTPResponse], None]


def make_finisher(
    *,
    security_headers: Sequence[tuple[str, str]],
    observe: ResponseHook | None,
    compress: ResponseHook | None,
    compress_min_size: int,
    bypass: Collection[str] = (),
) -> ResponseHook:
    """What the app does to every response. `compress` is called only for a body of at
    least `compress_min_size` bytes (it decides the rest); routes are given as Sanic
    stores them, without the leading slash."""
    pairs = tuple(security_headers)
    skipped = frozenset(bypass)

    def finish_response(request: Request, response: BaseHTTPResponse) -> None:
        REQUESTS.answered += 1
        route = request.route
        if route is not None and route.path in skipped:
            return
        headers = response.headers
        headers[HEADER] = request_id(request)
        for name, value in pairs:
            headers.setdefault(name, value)  # a response that set its own keeps it
        if observe is not None:
            observe(request, response)
        if compress is not None:
            body = getattr(response, "body", None)  # a streamed response has none
            if body and len(body) >= compress_min_size:
                compress(request, response)

    return finish_response
