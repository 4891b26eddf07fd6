"""JSON with orjson: one encoder for every response, datetimes as ISO 8601 UTC."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

import orjson

# Naive datetimes are stored and meant as UTC; aware ones are rendered with "Z".
# Non-string keys: the OpenAPI document keys responses by integer status.
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, UUID):  # asyncpg's own UUID subclass, which orjson does not know
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


encode: Callable[[Any], bytes] = partial(orjson.dumps, default=_default, option=_OPTIONS)
"""The encoder (a partial: no Python frame of its own on every response)."""


def dumps(value: Any, **_: Any) -> bytes:
    """Sanic's `dumps` hook; extra keyword arguments of `json()` are not used."""
    return encode(value)


loads = orjson.loads
