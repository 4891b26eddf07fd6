"""Reading a JSON request body: 415 for other media types, 400 for broken JSON."""

from __future__ import annotations

from typing import Any

import orjson
from sanic import Request

from app.http.errors import MalformedJSON, UnsupportedMediaType


def json_body(request: Request) -> Any:
    """The decoded body. An empty body is malformed, not "no fields"."""
    media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {media_type or 'missing'}"
        )
    if not request.body:
        raise MalformedJSON("The request body is empty; send a JSON object")
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise MalformedJSON(f"The request body is not valid JSON: {error}") from None
