"""The app's request class, typed like Sanic's own sample
(`tests/typing/samples/request_fully_custom.py`): `Request[OnrampApp, RequestContext]`,
registered with `Sanic(..., request_class=OnrampRequest)`.

Per-request state lives on `request.ctx`, a `RequestContext` made when the request is
(its headers parsed): when it arrived, its id once asked for, its caller once
authenticated. The process's request counts are kept here too, since every request
object passes through `__init__` and every response through the response middleware.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import orjson
from sanic import Request
from sanic.exceptions import ServerError

from app.accounts.principal import Principal
from app.http.exchange import MalformedJSON, UnsupportedMediaType
from app.state import OnrampApp

if TYPE_CHECKING:  # the domain loads in the worker only (`app.lifecycle.context`)
    from app.context import AppContext


class RequestCounts:
    """Requests this process has received (their objects were made) and answered (the
    response middleware ran).

    An instance, not class attributes of the request class: on CPython 3.11 every
    assignment to a class attribute invalidates the class's version tag, and with it
    every specialised attribute lookup on its instances (bench/README.md).
    """

    __slots__ = ("answered", "received")

    def __init__(self) -> None:
        self.received = 0
        self.answered = 0

    def in_flight(self) -> int:
        return self.received - self.answered


REQUESTS = RequestCounts()


class RequestContext(SimpleNamespace):
    """What the app keeps about one request (`request.ctx`; Sanic's type for it is a
    `SimpleNamespace`). The class holds the defaults; a request sets its own values on
    its instance (never on the class, see `RequestCounts`)."""

    started: float = 0.0
    """When the request arrived (its object was made)."""
    request_id: str | None = None
    """Set on first use by `app.http.request_id.request_id`."""
    principal: Principal | None = None
    """Set by `app.http.auth.authorized`."""


class OnrampRequest(Request[OnrampApp, RequestContext]):
    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Made now, not on first use: `started` is when the request arrived.
        self.ctx  # noqa: B018
        REQUESTS.received += 1

    @staticmethod
    def make_context() -> RequestContext:
        return RequestContext(started=time.perf_counter())

    def load_json(self, loads: Any = None) -> Any:
        """`request.json`, with the API's rules for a JSON body (`json_body`) and its
        error codes: 400 `malformed_json`, 415 `unsupported_media_type`."""
        body = json_body(self)
        try:
            self.parsed_json = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise MalformedJSON(f"The request body is not valid JSON: {error}") from None
        return self.parsed_json


def context_of(request: OnrampRequest) -> AppContext:
    """The worker's context, for a handler."""
    return request.app.ctx.context


def current_request() -> OnrampRequest | None:
    """The request being handled in this context, if any (none in a listener, a
    background job or a script)."""
    try:
        request: object = Request.get_current()
    except ServerError:
        return None
    return request if isinstance(request, OnrampRequest) else None


def as_onramp_request(request: object) -> OnrampRequest:
    """The request Sanic hands to an error handler, as the app's class: Sanic types it
    as its base `Request`, but every request of this app is made as `OnrampRequest`."""
    if not isinstance(request, OnrampRequest):
        raise TypeError(f"not a request of this app: {type(request).__name__}")
    return request


def media_type(content_type: str | None) -> str:
    """The media type of a `Content-Type` value, without parameters, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def json_body(request: OnrampRequest) -> bytes:
    """The body of a request that must carry JSON: 415 for another media type, 400
    when there is none."""
    kind = media_type(request.content_type)
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {kind or 'missing'}"
        )
    if not request.body:
        raise MalformedJSON("The request body is empty; send a JSON object")
    return request.body
