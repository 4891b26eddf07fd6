"""The app's request class: JSON bodies decoded by orjson, with our error codes.

Sanic answers a broken body with a generic 400 and an empty one with None; clients
get `malformed_json` (400) or `unsupported_media_type` (415) instead.

It also notes when the request arrived (its headers were parsed) and counts requests
received: the request log and metrics need both, and a request middleware would cost
two signal dispatches per request for what two attribute writes do here.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import orjson
from sanic import Request

from app.http.errors import MalformedJSON, UnsupportedMediaType


class ApiRequest(Request):
    __slots__ = ("started",)

    received: ClassVar[int] = 0
    """Requests this process has received (their objects were made)."""
    answered: ClassVar[int] = 0
    """Requests this process has answered (their response hooks ran)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = time.perf_counter()
        ApiRequest.received += 1

    @classmethod
    def in_flight(cls) -> int:
        return cls.received - cls.answered

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
