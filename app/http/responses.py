"""JSON responses, built the short way.

Sanic's `json()` makes a `JSONResponse`, which keeps the body object and its encoder
around so a middleware could change it later; nothing here does, and making one costs
about half as much again as the plain `HTTPResponse` with the encoded body (measured
on the vendor read, bench/README.md). Every JSON response of the app is made here.
"""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse

from app.jsonutil import encode

JSON = "application/json"


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """`body` encoded by the app's one JSON encoder (`app.jsonutil`)."""
    return HTTPResponse(encode(body), status=status, headers=headers, content_type=JSON)
