"""Opaque keyset cursors: newest first, on (created_at, id).

A cursor is the last item's sort key, base64url-encoded JSON. It is not secret (every
query is scoped to the caller's organisation anyway) but must be well-formed: anything
else is the client's error (422), never ours (500).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.errors import Invalid

M = TypeVar("M", bound=Model)


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    raw = orjson.dumps([created_at.isoformat(), str(item_id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, item_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(created_at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, uuid.UUID(item_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(
            "The cursor is not valid; start again without it",
            details=[{"field": "cursor", "message": "not a cursor this API issued"}],
        ) from None


def after_cursor(rows: QuerySet[M], cursor: str | None) -> QuerySet[M]:
    """Rows strictly after the cursor in newest-first order (all rows without one)."""
    if not cursor:
        return rows
    created_at, last_id = decode_cursor(cursor)
    return rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id))


def page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """`{"items", "next_cursor"}` from up to `limit + 1` rows fetched newest first."""
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last["created_at"], last["id"])
    return {"items": items, "next_cursor": next_cursor}


async def keyset_page(
    rows: QuerySet[M],
    columns: Sequence[str],
    *,
    limit: int,
    cursor: str | None,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One page of `rows`, newest first: `columns` fetched (with `created_at` and `id`,
    the sort key), each row turned into an item by `shape`."""
    fetched = await (
        after_cursor(rows, cursor).order_by("-created_at", "-id").limit(limit + 1).values(*columns)
    )
    found = page(fetched, limit)
    return {"items": [shape(row) for row in found["items"]], "next_cursor": found["next_cursor"]}
