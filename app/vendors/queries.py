"""The vendors table's two hot reads, the page and the single vendor, as plain SQL.

Every client listing and every vendor view ends here. Built through the ORM, a page of
50 spent about a third of its time in the query builder and in per-row value
conversions that only restate what asyncpg already returns (profile in bench/README).
Here the statement is assembled from the constant fragments below, values always
travel as parameters, and rows come back as dicts for the JSON encoder.

The text is the one Tortoise generates for the same filters (same LIKE escaping, same
case folding), so PostgreSQL and SQLite answer alike: only the placeholders differ,
and SQLite's text-stored timestamps are converted by the ORM's own fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple

from tortoise.filters import escape_like

from app.runtime.db import HOT_READS, FetchDicts
from app.vendors.models import Vendor
from app.vendors.schemas import VENDOR_FIELDS
from app.vendors.statuses import VendorStatus

# Constants only: the response model's field names, never input. The id comes back as
# text (the JSON encoder writes a str as is; asyncpg's UUID would go through `default`).
_COLUMNS = ",".join('CAST("id" AS VARCHAR) "id"' if c == "id" else f'"{c}"' for c in VENDOR_FIELDS)
_SELECT = f'SELECT {_COLUMNS} FROM "vendors"'  # noqa: S608
_MATCHES = "UPPER(CAST(\"{column}\" AS VARCHAR)) LIKE UPPER({value}) ESCAPE '\\'"


class _Statement:
    """Parameters in order, with the connection's placeholder style."""

    def __init__(self, numbered: bool) -> None:
        self.numbered = numbered
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.numbered else "?"


def _as_is(row: dict[str, Any]) -> None:
    """asyncpg returns aware datetimes already."""


_TEXT_COLUMNS = {
    column: Vendor._meta.fields_map[column].to_python_value
    for column in ("created_at", "updated_at")
}


def _from_text(row: dict[str, Any]) -> None:
    for column, convert in _TEXT_COLUMNS.items():
        row[column] = convert(row[column])


def _one_sql(numbered: bool) -> str:
    param = _Statement(numbered)
    return f'{_SELECT} WHERE "organization_id"={param("")} AND "id"={param("")} LIMIT 1'


class _Dialect(NamedTuple):
    """What differs between the two databases, worked out once."""

    numbered: bool
    uuid: Callable[[uuid.UUID], Any]
    """A uuid as a parameter: asyncpg takes the object (cheaper than its text)."""
    convert: Callable[[dict[str, Any]], None]
    one_sql: str


def _same(value: uuid.UUID) -> uuid.UUID:
    return value


_POSTGRES = _Dialect(True, _same, _as_is, _one_sql(numbered=True))
_SQLITE = _Dialect(False, str, _from_text, _one_sql(numbered=False))


def _database() -> tuple[FetchDicts, _Dialect]:
    reads = HOT_READS
    return reads.fetch, _POSTGRES if reads.numbered else _SQLITE


async def page_rows(
    organization_id: uuid.UUID,
    *,
    limit: int,
    status: VendorStatus | None = None,
    search: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` rows of one organisation, newest first, strictly after `after`."""
    fetch, dialect = _database()
    param, convert = _Statement(dialect.numbered), dialect.convert
    where = [f'"organization_id"={param(dialect.uuid(organization_id))}']
    if status is not None:
        where.append(f'"status"={param(status.value)}')
    if search:
        pattern = f"%{escape_like(search)}%"
        name = _MATCHES.format(column="name", value=param(pattern))
        email = _MATCHES.format(column="contact_email", value=param(pattern))
        where.append(f"({name} OR {email})")
    if after is not None:
        created_at, last_id = after
        where.append(
            f'("created_at"<{param(created_at)} OR '
            f'("created_at"={param(created_at)} AND "id"<{param(dialect.uuid(last_id))}))'
        )
    sql = (
        f"{_SELECT} WHERE {' AND '.join(where)} "
        f'ORDER BY "created_at" DESC,"id" DESC LIMIT {param(limit)}'
    )
    rows = await fetch(sql, param.values)
    for row in rows:
        convert(row)
    return rows


def rows_by_id(organization_id: uuid.UUID, vendor_id: uuid.UUID) -> Awaitable[list[dict[str, Any]]]:
    """The vendor if it belongs to the organisation: a list of it, or an empty one.

    Not a coroutine of its own: PostgreSQL's rows need no conversion, so the query's own
    awaitable is handed back (one frame fewer to resume on the hottest read)."""
    reads = HOT_READS
    if reads.numbered:  # PostgreSQL
        return reads.fetch(_POSTGRES.one_sql, [organization_id, vendor_id])
    rows = reads.fetch(_SQLITE.one_sql, [str(organization_id), str(vendor_id)])
    return _converted(rows, _SQLITE.convert)


async def _converted(
    rows: Awaitable[list[dict[str, Any]]], convert: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    found = await rows
    for row in found:
        convert(row)
    return found
