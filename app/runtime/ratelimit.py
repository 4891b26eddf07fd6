"""Limits that hold across every worker and host: fixed-window counters in the database.

`hit` counts and decides in one statement (an upsert returning the new count), so
concurrent attempts on any worker are counted exactly: of 30 parallel wrong logins
against a limit of 3, exactly 3 get past. A window is fixed (it starts at a multiple of
its length), which allows up to twice the limit across a window boundary; for abuse
limits that is the accepted trade for one indexed row per key and window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.runtime.db import connection, is_postgres

_HIT = (
    "INSERT INTO rate_counters (key, window_start, hits, expires_at) VALUES ({p1}, {p2}, 1, {p3}) "
    "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_counters.hits + 1 "
    "RETURNING hits"
)
_FORGET = (
    "UPDATE rate_counters SET hits = hits - 1 WHERE key = {p1} AND window_start = {p2} AND hits > 0"
)
_CLEAR = "DELETE FROM rate_counters WHERE key = {p1}"
_COUNT = "SELECT hits FROM rate_counters WHERE key = {p1} AND window_start = {p2}"
_PURGE = "DELETE FROM rate_counters WHERE expires_at < {p1}"


@dataclass(frozen=True)
class Limit:
    """At most `max_hits` per `window` seconds for each key under `name`."""

    name: str
    max_hits: int
    window: int

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"


def _sql(template: str) -> str:
    numbered = is_postgres(connection())
    return template.format(**{f"p{n}": f"${n}" if numbered else "?" for n in range(1, 4)})


def _window(limit: Limit, now: float) -> int:
    return int(now) - int(now) % limit.window


async def hit(limit: Limit, subject: str, *, now: float | None = None) -> int | None:
    """Count one attempt; return the seconds to wait if it is over the limit, else None."""
    now = time.time() if now is None else now
    start = _window(limit, now)
    rows = await connection().execute_query_dict(
        _sql(_HIT), [limit.key(subject), start, start + limit.window]
    )
    if int(rows[0]["hits"]) <= limit.max_hits:
        return None
    return max(1, start + limit.window - int(now))


async def forget(limit: Limit, subject: str, *, now: float | None = None) -> None:
    """Take back this window's last attempt (it turned out not to count, e.g. it succeeded)."""
    now = time.time() if now is None else now
    await connection().execute_query(_sql(_FORGET), [limit.key(subject), _window(limit, now)])


async def clear(limit: Limit, subject: str) -> None:
    """Forget every counted attempt of `subject` (a successful login forgives its email)."""
    await connection().execute_query(_sql(_CLEAR), [limit.key(subject)])


async def count(limit: Limit, subject: str, *, now: float | None = None) -> int:
    """Attempts counted in the current window."""
    now = time.time() if now is None else now
    rows = await connection().execute_query_dict(
        _sql(_COUNT), [limit.key(subject), _window(limit, now)]
    )
    return int(rows[0]["hits"]) if rows else 0


async def purge(*, now: float | None = None) -> int:
    """Delete counters whose window has ended (the housekeeping job)."""
    now = time.time() if now is None else now
    deleted, _ = await connection().execute_query(_sql(_PURGE), [int(now)])
    return int(deleted)
