"""Gzip for large responses, a step of the response middleware (`app.http.response_hooks`).

No maintained Sanic package does this, so it is ours and kept small. The rules follow
Starlette's GZipMiddleware: a minimum size, only compressible types, never twice,
never a streamed body, `Vary: Accept-Encoding` on whatever could have been compressed.
"""

from __future__ import annotations

import gzip

from sanic.response import BaseHTTPResponse, HTTPResponse

from app.http.request import OnrampRequest, media_type
from app.http.response_hooks import ResponseHook

COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/xml",
        "image/svg+xml",
        "text/plain",
        "text/html",
        "text/css",
        "text/javascript",
        "text/csv",
        "text/xml",
    }
)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value allows gzip (RFC 9110 §12.5.3).

    An explicit `gzip` entry decides; otherwise `*` decides; q=0 means "not acceptable".
    """
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in {"gzip", "x-gzip"}:
            gzip_q = q if gzip_q is None else max(gzip_q, q)
        elif coding == "*":
            star_q = q
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def _add_vary(response: BaseHTTPResponse) -> None:
    vary = response.headers.get("Vary", "")
    values = {v.strip().lower() for v in vary.split(",") if v.strip()}
    if "accept-encoding" not in values and "*" not in values:
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


def make_compressor(*, min_size: int, level: int) -> ResponseHook:
    """Build the response hook for one app's settings."""

    def compress_response(request: OnrampRequest, response: BaseHTTPResponse) -> None:
        # Streamed responses are not HTTPResponse (their body is sent as it is made).
        if not isinstance(response, HTTPResponse):
            return
        body = response.body
        if not body or len(body) < min_size or response.status in (204, 206, 304):
            return
        if "content-encoding" in response.headers:
            return
        if media_type(response.content_type) not in COMPRESSIBLE_TYPES:
            return
        _add_vary(response)
        if not accepts_gzip(request.headers.get("accept-encoding", "")):
            return
        compressed = gzip.compress(body, compresslevel=level, mtime=0)
        if len(compressed) >= len(body):
            return
        response.body = compressed
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(compressed))

    return compress_response
