"""The app's request class: JSON bodies decoded by orjson, with our error codes.

Sanic answers a broken body with a generic 400 and an empty one with None; clients
get `malformed_json` (400) or `unsupported_media_type` (415) instead.

It also notes when the request arrived (its headers were parsed) and counts requests
received: the request log and metrics need both, and a request middleware would cost
two signal dispatches per request for what two attribute writes do here. Its id
(`app.http.request_id`) and its caller (`app.http.auth`) live in slots of their own, not
on `request.ctx`, which Sanic makes (a namespace and its dict) on first use.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from sanic import Request
from sanic.compat import Header
from sanic.response import BaseHTTPResponse, HTTPResponse

from app.accounts.principal import Principal
from app.http.errors import MalformedJSON, UnsupportedMediaType

logger = logging.getLogger("onramp.errors")


class RequestCounts:
    """Requests this process has received (their objects were made) and answered (their
    response hooks ran).

    An instance, not class attributes of `ApiRequest`: on CPython 3.11 every assignment
    to a class attribute invalidates the class's version tag, and with it every
    specialised attribute lookup on its instances, so each `request.<name>` in Sanic and
    here took the slow path again on every request (11 µs of a 160 µs vendor read,
    measured; bench/README.md).
    """

    __slots__ = ("answered", "received")

    def __init__(self) -> None:
        self.received = 0
        self.answered = 0

    def in_flight(self) -> int:
        return self.received - self.answered


REQUESTS = RequestCounts()


class ApiRequest(Request):
    __slots__ = ("finished", "principal", "request_id", "started")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = time.perf_counter()
        self.request_id: str | None = None
        """Set on first use by `app.http.request_id.request_id`."""
        self.principal: Principal | None = None
        """Set by `app.http.auth.authorized`."""
        self.finished = False
        REQUESTS.received += 1

    async def respond(
        self,
        response: BaseHTTPResponse | None = None,
        *,
        status: int = 200,
        headers: Header | dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Sanic's `respond`, once the app's finisher has run on the response.

        Every response, a handler's or the error handler's, streamed or not, leaves
        through here, once per request: the place Sanic runs response middleware. The
        finisher (`app.http.response_hooks`) is called directly instead of being
        registered as middleware: Sanic's middleware runner costs a coroutine, a wrapper
        call and an `isawaitable` check through an ABC on every response. As with Sanic's
        middleware, a finisher that fails is logged and the response still goes out.
        """
        if response is None:
            response = HTTPResponse(status=status, headers=headers, content_type=content_type)
        if not self.finished:
            self.finished = True
            finish = self.app.ctx.finish
            if finish is not None:
                try:
                    finish(self, response)
                except Exception:
                    logger.exception("finishing the response failed; it is sent as it is")
        return await super().respond(response)

    def json_body(self) -> bytes:
        """The body of a request that must carry JSON: 415 for another media type, 400
        when there is none."""
        media_type = (self.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(
                f"Content-Type must be application/json, not {media_type or 'missing'}"
            )
        if not self.body:
            raise MalformedJSON("The request body is empty; send a JSON object")
        return self.body

    def load_json(self, loads: Any = None) -> Any:
        body = self.json_body()
        try:
            self.parsed_json = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise MalformedJSON(f"The request body is not valid JSON: {error}") from None
        return self.parsed_json
