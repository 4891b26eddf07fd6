"""Tortoise's asyncpg engine, with every wait for a connection bounded.

asyncpg's pool makes a caller wait for a free connection for as long as it takes, and
Tortoise asks it without a timeout. When every connection of a worker is busy (a slow
or locked database, more concurrent work than `DB_POOL_MAX`), requests then pile up
behind each other until the client gives up. Here the wait is bounded by
`DB_POOL_TIMEOUT`: past it the query fails with `PoolTimeout`, which is an outage
(`app.runtime.outages`): the request answers 503 at once and the dispatcher backs off.

The pool also opens no connection when it is created, only when one is needed. Tortoise
creates the pool on first use under a lock: were creation to connect, then in an outage
every waiting query (requests, the dispatcher, the housekeeping jobs) would make its own
attempt after the one before it failed, and the n-th request would answer 503 only after
n x DB_CONNECT_TIMEOUT. With an empty pool, creation cannot fail, and each query's
`acquire` connects on its own, bounded by DB_CONNECT_TIMEOUT.
Connections then stay open once opened (no idle expiry, see `app.runtime.db`), so a
busy worker holds up to DB_POOL_MAX.

Selected in `app.runtime.db.tortoise_config` as the engine of PostgreSQL URLs; the
timeout travels in the connection's credentials like Tortoise's own pool settings.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

ENGINE = __name__
REPLACES = "tortoise.backends.asyncpg"
TIMEOUT_KEY = "pool_timeout"


class PoolTimeout(TimeoutError):
    """Every connection of the pool stayed busy for longer than the bound."""


class BoundedWaitPool:
    """asyncpg's pool, whose `acquire` waits at most `timeout` seconds for a connection
    when all of them are busy.

    A wrapper, not a subclass: asyncpg builds its pools in `create_pool` and offers no
    way to pick the class. Everything but `acquire` is the pool's own.

    No timer per query: asyncpg's own `acquire(timeout=)` goes through `wait_for`, a task
    and a timer per call, and a cancelled asyncio timer keeps the context it was made in
    (the request, body included) until the loop sweeps its heap. Here only a query that
    must wait is put on a watch list, and one timer, made in an empty context, cancels
    the waits that are past their deadline."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        # Made on the worker's loop, used only there. Asked once: on Python 3.11 every
        # `get_running_loop()` (and `current_task()` without a loop) is a getpid call.
        self._loop = asyncio.get_running_loop()
        self._capacity = pool.get_max_size()
        self._in_use = 0
        """Connections handed out and not yet given back (every caller goes through
        here): counted, because asyncpg's `get_idle_size` walks every connection."""
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def _idle_in_asyncpg(self) -> bool:
        """Our count runs a little behind asyncpg's (a connection is back in the pool a
        loop turn before its releaser resumes): asked before a caller is put on the
        watch list."""
        return bool(self._pool.get_idle_size() > 0)

    async def acquire(self, *, timeout: float | None = None) -> Any:
        # A connection is free, or one may be opened (bounded by the connect timeout):
        # asyncpg hands it over without waiting. The caller counts from now, not from
        # when it has the connection: one still opening its connection (up to
        # DB_CONNECT_TIMEOUT against a database that does not answer) holds a place of
        # the pool, and the next caller must take the bounded way instead of queueing
        # in asyncpg behind each opening attempt in turn.
        if self._in_use < self._capacity or self._idle_in_asyncpg():
            self._in_use += 1
            try:
                return await self._pool.acquire()
            except BaseException:
                self._in_use -= 1
                raise
        connection = await self._wait_for_one(self._timeout if timeout is None else timeout)
        self._in_use += 1
        return connection

    async def _wait_for_one(self, bound: float) -> Any:
        loop = self._loop
        task = asyncio.current_task(loop)
        assert task is not None
        self._deadlines[task] = loop.time() + bound
        self._arm(loop)
        try:
            return await self._pool.acquire()
        except asyncio.CancelledError:
            if task in self._expired and task.uncancel() == 0:  # ours, not the caller's
                raise PoolTimeout(
                    f"no database connection free within {bound:g}s "
                    f"(all {self._pool.get_max_size()} of this worker's are busy)"
                ) from None
            raise
        finally:
            self._deadlines.pop(task, None)
            self._expired.discard(task)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None and self._deadlines:
            self._timer = loop.call_at(
                min(self._deadlines.values()), self._expire, loop, context=contextvars.Context()
            )

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        for task, deadline in list(self._deadlines.items()):
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._deadlines = {
            task: deadline for task, deadline in self._deadlines.items() if deadline > now
        }
        self._arm(loop)

    async def release(self, connection: Any) -> None:
        try:
            await self._pool.release(connection)
        finally:
            self._in_use -= 1

    async def fetch_dicts(self, query: str, values: list[Any]) -> list[dict[str, Any]]:
        """Rows as dicts through asyncpg's `Pool.fetch` (take a connection, query, give it
        back), with the same bounded wait when every connection is busy."""
        if self._in_use < self._capacity or self._idle_in_asyncpg():
            self._in_use += 1  # asyncpg's own short way
            try:
                records = await self._pool.fetch(query, *values)
            finally:
                self._in_use -= 1
        else:
            connection = await self.acquire()
            try:
                records = await connection.fetch(query, *values)
            finally:
                await self.release(connection)
        return list(map(dict, records))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset: nothing beyond what asyncpg always does.

    By default asyncpg resets every connection it takes back with
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`: a second
    round trip to the database for every query outside a transaction, as many as the
    queries themselves on the hot reads. Onramp keeps no session state (no advisory
    locks, cursors, LISTEN or SET; `tests/test_db.py` checks the code for them), and
    an open transaction is still rolled back: asyncpg does that before it calls this.
    """


class BoundedWaitClient(AsyncpgDBClient):
    """Tortoise's asyncpg client over a `BoundedWaitPool`, without the reset query."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        timeout = float(kwargs.pop(TIMEOUT_KEY))
        super().__init__(*args, **kwargs)
        self._pool_timeout = timeout

    def fetch_dicts(self, query: str, values: list[Any]) -> Awaitable[list[dict[str, Any]]]:
        """`execute_query_dict` for the hot reads, without Tortoise's layers around it.

        The same acquire (bounded), query, release and debug line (so `LOG_LEVEL=DEBUG`
        shows these statements like every other), without the connection wrapper object
        and the exception translator Tortoise adds per query (our outage detection reads
        asyncpg's own errors). Never in a transaction: it takes a pooled connection of
        its own. Not a coroutine itself: it hands back the pool's.
        """
        pool = self._pool
        if pool is None:  # the first query of this worker: Tortoise creates the pool
            rows: Awaitable[list[dict[str, Any]]] = self.execute_query_dict(query, values)
            return rows
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s: %s", query, values)
        fetched: Awaitable[list[dict[str, Any]]] = pool.fetch_dicts(query, values)
        return fetched

    async def create_pool(self, **kwargs: Any) -> Any:
        pool = await super().create_pool(
            **{**kwargs, "min_size": 0, "init_size": 0, "reset": keep_session}
        )
        return BoundedWaitPool(pool, self._pool_timeout)


client_class = BoundedWaitClient
