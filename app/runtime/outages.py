"""Recognising a database outage, and saying so once instead of once per request.

An outage is anything that means "the database cannot answer now", whatever layer
raised it: a refused or reset connection, a connect timeout, the server shutting down or
refusing new connections (`ALLOW_CONNECTIONS false`, too many connections, a database
that is gone), a connection dropped mid-query, PgBouncer's protocol errors. Requests
then answer 503 at once and the dispatcher backs off; none of it is a bug, so none of it
is logged with a traceback, and each kind is logged at most once per interval.
"""

from __future__ import annotations

import logging
import time
from functools import cache

LOG_EVERY = 10.0  # seconds between lines about one kind of outage


@cache
def _outage_types() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(outages, exceptions to them): imported on first use, so importing this module
    loads no driver."""
    import asyncpg
    from asyncpg import exceptions as pg
    from tortoise.exceptions import DBConnectionError

    outages: tuple[type[BaseException], ...] = (
        DBConnectionError,
        ConnectionError,  # refused, reset, aborted, broken pipe
        TimeoutError,  # connecting took longer than DB_CONNECT_TIMEOUT
        asyncpg.InterfaceError,  # the connection was closed under the query
        pg.InternalClientError,  # a connection the server killed mid-operation
        pg.PostgresConnectionError,  # class 08, PgBouncer's protocol errors included
        pg.OperatorInterventionError,  # class 57: shutdown, cannot connect now
        pg.InsufficientResourcesError,  # class 53: too many connections
        pg.ObjectNotInPrerequisiteStateError,  # "not currently accepting connections"
        pg.InvalidCatalogNameError,  # the database does not exist (any more)
    )
    not_outages: tuple[type[BaseException], ...] = (
        pg.QueryCanceledError,  # a statement timeout: the query's problem
    )
    return outages, not_outages


def outage_kind(error: BaseException | None) -> str | None:
    """The name of the outage `error` is (or was caused by), or None."""
    outages, not_outages = _outage_types()
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, outages) and not isinstance(error, not_outages):
            return type(error).__name__
        error = error.__cause__ or error.__context__
    return None


class OncePer:
    """Log a line per key at most once per `seconds` (with how many were held back)."""

    def __init__(self, logger: logging.Logger, seconds: float = LOG_EVERY) -> None:
        self._logger = logger
        self._seconds = seconds
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._seconds:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._last[key] = now
        suffix = f" ({held} more since the last line)" if held else ""
        self._logger.warning("%s%s", message, suffix)
