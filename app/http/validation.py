"""Request validation with pydantic models: JSON bodies and query strings.

Our own two decorators rather than sanic-ext's `@validate`: that one answers a bad body
with 400 and a flattened string, logs a traceback per bad request, and resolves the
model's type hints on every request (about 7 % of a vendor-list request when profiled).
Here pydantic's own error goes to the error handler, which answers 422 with a `details`
entry per field. Like `@authorized`, the wrappers are no coroutines: they check, then
hand back the handler's coroutine for Sanic to await. The OpenAPI document describes
the same models (`app.http.docs`).

What is accepted is exactly what the document says. A JSON body is validated in
pydantic's strict JSON mode: `0` is no boolean and `"5"` no integer (a UUID or a date
arrives as a string, as the document has it). A query keeps its blank values: `?vendor_id=`
is an invalid id, not a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.http import docs
from app.http.exchange import MalformedJSON
from app.http.request import OnrampRequest, json_body

Handler = Callable[..., Coroutine[Any, Any, Any]]
ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_json(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Pass the parsed JSON body to the handler as `body`."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapper(request: OnrampRequest, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
            kwargs["body"] = parse_body(model, json_body(request))
            return handler(request, *args, **kwargs)

        docs.implies(wrapper, 413, 415, 422)  # too large, not JSON, not valid
        return wrapper

    return decorator


def validate_query(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Pass the parsed query to the handler as `query`."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapper(request: OnrampRequest, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
            raw = {
                key: values[0] if len(values) == 1 else values
                for key, values in request.get_args(keep_blank_values=True).items()
            }
            kwargs["query"] = model.model_validate(raw)
            return handler(request, *args, **kwargs)

        docs.implies(wrapper, 422)
        return wrapper

    return decorator


def parse_body(model: type[ModelT], body: bytes) -> ModelT:
    """`body` as `model`: malformed JSON is a 400, anything else wrong a 422 (the error
    handler turns pydantic's error into the envelope)."""
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise MalformedJSON(f"The request body is not valid JSON: {first['msg']}") from None
        raise
