"""Request ids: echo a sane incoming `X-Request-ID`, otherwise make one.

The id is computed once per request and cached on `request.ctx`, so the error
handler (which may run before any middleware) and the response see the same value.
"""

from __future__ import annotations

import re
import uuid

from sanic import Request
from sanic.response import BaseHTTPResponse

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(request: Request) -> str:
    cached: str | None = getattr(request.ctx, "request_id", None)
    if cached is None:
        incoming = request.headers.get(HEADER, "")
        cached = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        request.ctx.request_id = cached
    return cached


async def stamp_request_id(request: Request, response: BaseHTTPResponse) -> None:
    """Response middleware: every response carries the request's id."""
    response.headers[HEADER] = request_id(request)
