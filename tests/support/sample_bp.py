"""Routes that exist only for tests of cross-cutting behaviour (errors, compression).

Enabled by listing `tests.support.sample_bp` in BLUEPRINTS, like any other area.
"""

from __future__ import annotations

import asyncio
import gzip

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, ResponseStream, json, raw, text

from app.http.request import OnrampRequest

bp = Blueprint("sample", url_prefix="/_sample")

BIG_ITEMS = [{"index": i, "name": f"vendor number {i}", "tags": ["a", "b"]} for i in range(200)]


@bp.get("/big-json")
async def big_json(request: Request) -> HTTPResponse:
    return json({"items": BIG_ITEMS})


@bp.get("/small-json")
async def small_json(request: Request) -> HTTPResponse:
    return json({"ok": True})


@bp.get("/big-text")
async def big_text(request: Request) -> HTTPResponse:
    return text("onramp " * 1000)


@bp.get("/big-binary")
async def big_binary(request: Request) -> HTTPResponse:
    return raw(bytes(range(256)) * 40, content_type="application/octet-stream")


@bp.get("/already-encoded")
async def already_encoded(request: Request) -> HTTPResponse:
    body = gzip.compress(b'{"x": "' + b"y" * 5000 + b'"}')
    return raw(body, content_type="application/json", headers={"Content-Encoding": "gzip"})


@bp.get("/stream")
async def stream(request: Request) -> ResponseStream:
    async def chunks(response: ResponseStream) -> None:
        for _ in range(20):
            await response.write("x" * 500)

    return ResponseStream(chunks, content_type="text/plain")


@bp.get("/vary")
async def with_vary(request: Request) -> HTTPResponse:
    return json({"items": BIG_ITEMS}, headers={"Vary": "Origin"})


@bp.post("/echo")
async def echo(request: Request) -> HTTPResponse:
    assert isinstance(request, OnrampRequest)
    return json({"received": request.json})


@bp.get("/boom")
async def boom(request: Request) -> HTTPResponse:
    raise RuntimeError("deliberate failure with secret detail")


@bp.get("/slow")
async def slow(request: Request) -> HTTPResponse:
    """For clients that leave before the answer."""
    await asyncio.sleep(3)
    return json({"late": True})
