"""The database: Tortoise's configuration and one owner of a worker's connections.

Tortoise 1.x keeps its state in a context variable. Sanic's handlers run in tasks
that do not inherit the listener's context, so the worker's context is also set as
Tortoise's global fallback (what `register_tortoise` does); otherwise every query
fails with "No TortoiseContext is currently active" and closing closes nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from app.runtime import pg_engine
from app.settings import Settings

MODEL_MODULES = (
    "app.accounts.models",
    "app.vendors.models",
    "app.invitations.models",
    "app.audit.models",
    "app.mail.models",
    "app.runtime.models",
)
MIGRATIONS_MODULE = "app.migrations"
DEFAULT = "default"

logger = logging.getLogger("onramp.db")

P = ParamSpec("P")
T = TypeVar("T")


def unit_of_work(func: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """One unit of database work: `func` runs in one transaction that commits or rolls
    back even when its caller is cancelled.

    A client that disconnects cancels its request's handler. Cancelled while Tortoise
    opens a transaction (a pool connection taken, BEGIN not yet answered), that
    connection is never given back (tortoise-orm 1.1.9; the report is
    docs/upstream/tortoise-transaction-cancel-leak.md, and `tests/test_db.py` shows it).
    So the transaction runs in a task of its own, shielded: only the waiting for it is
    cancelled, and a failure nobody is left to see is logged.

    Keep units small: what runs before them (password hashing, for one) stays
    cancellable, so a client that left costs nothing more.
    """

    async def in_one_transaction(*args: P.args, **kwargs: P.kwargs) -> T:
        async with in_transaction():
            return await func(*args, **kwargs)

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        task = asyncio.ensure_future(in_one_transaction(*args, **kwargs))
        abandoned = False

        def report(done: asyncio.Future[T]) -> None:
            if done.cancelled():
                return
            error = done.exception()  # always retrieved: no "never retrieved" warning
            if error is not None and abandoned:
                logger.error("%s failed after its caller left", func.__qualname__, exc_info=error)

        task.add_done_callback(report)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            abandoned = True
            raise

    return wrapper


def tortoise_config(settings: Settings, *, pool_max: int | None = None) -> dict[str, Any]:
    """Tortoise's config dict for these settings (pool size, application name, pragmas)."""
    url = settings.DATABASE_URL
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    connection = expand_db_url(url)
    credentials = connection["credentials"]
    if connection["engine"].endswith("sqlite"):
        _ensure_sqlite_folder(credentials["file_path"])
        # Several workers share one file: wait for the writer instead of failing.
        credentials.setdefault("busy_timeout", 5000)
    else:
        maxsize = pool_max or settings.DB_POOL_MAX
        credentials["maxsize"] = maxsize
        credentials["application_name"] = settings.DB_APPLICATION_NAME
        credentials["timeout"] = settings.DB_CONNECT_TIMEOUT
        if connection["engine"] == pg_engine.REPLACES:
            connection["engine"] = pg_engine.ENGINE
            credentials[pg_engine.TIMEOUT_KEY] = settings.DB_POOL_TIMEOUT
        # No expiry timer per cached prepared statement: `loop.call_later` copies the
        # current context, and a statement first prepared during a request would keep
        # that request (body included) alive for the timer's 300 s. Statements still
        # leave the cache by LRU; our set of statements is small and fixed.
        credentials["max_cached_statement_lifetime"] = 0
        # No idle-connection timer either: asyncpg re-arms it on every release of a
        # connection (cancelling the last one), and asyncio keeps cancelled timers, each
        # holding the releasing request's context, until it sweeps its timer heap. The
        # pool then keeps the connections it opened (at most DB_POOL_MAX, which is what
        # capacity is sized for anyway).
        credentials["max_inactive_connection_lifetime"] = 0
        if settings.DB_PGBOUNCER:
            # Transaction pooling gives each transaction whichever server connection is
            # free: a statement prepared on one is unknown on the next ("prepared
            # statement __asyncpg_stmt_N__ does not exist"). asyncpg then prepares
            # unnamed statements per query. We keep no other session state.
            credentials["statement_cache_size"] = 0
    return {
        "connections": {DEFAULT: connection},
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": DEFAULT,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_folder(file_path: str) -> None:
    if file_path != ":memory:":
        Path(file_path).parent.mkdir(parents=True, exist_ok=True)


def connection() -> BaseDBAsyncClient:
    """The connection (pool) the current worker's queries use: for hand-written SQL."""
    return get_connection(DEFAULT)


FetchDicts = Callable[[str, list[Any]], Awaitable[list[dict[str, Any]]]]


def _not_open(query: str, values: list[Any]) -> Awaitable[list[dict[str, Any]]]:
    raise RuntimeError("the database is not open")


class HotReads:
    """How the hottest reads (`app.vendors.queries`) reach this worker's database.

    One object, filled when a worker's database opens (`HOT_READS`), read as plain
    attributes on every read: no function call, no context lookup. `connection()`
    finds the client through Tortoise's context on every call, and checks it is on the
    running loop (`asyncio.get_running_loop`, which is a `getpid` system call on Python
    3.11), on the hottest path there is (bench/README.md). The reads that take this way
    are never part of a transaction, so the worker's own client is the right one.
    """

    __slots__ = ("fetch", "numbered", "owner")

    def __init__(self) -> None:
        self.fetch: FetchDicts = _not_open
        """Rows as dicts, on a pooled connection of their own (never a transaction's)."""
        self.numbered = False
        """Placeholders are `$1, $2` (PostgreSQL) rather than `?` (SQLite)."""
        self.owner: Database | None = None

    def open(self, owner: Database, fetch: FetchDicts, *, numbered: bool) -> None:
        self.fetch, self.numbered, self.owner = fetch, numbered, owner

    def close(self, owner: Database) -> None:
        if self.owner is owner:
            self.fetch, self.numbered, self.owner = _not_open, False, None


HOT_READS = HotReads()


def is_postgres(client: BaseDBAsyncClient) -> bool:
    return bool(client.capabilities.dialect == "postgres")


class Database:
    """This worker's connections: opened at start, closed at stop, counted in between."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context: TortoiseContext | None = None
        self.closed_count = 0

    @property
    def is_open(self) -> bool:
        return self._context is not None

    async def open(self) -> None:
        """Configure Tortoise; connections themselves open lazily on first use."""
        context = TortoiseContext()
        # `init` needs the context current. Handlers run in other tasks and find it
        # through the global fallback, so it is current only for this call.
        with context:
            await context.init(config=tortoise_config(self._settings), _enable_global_fallback=True)
        self._context = context
        client = context.connections.get(DEFAULT)
        fetch = getattr(client, "fetch_dicts", client.execute_query_dict)
        HOT_READS.open(self, fetch, numbered=is_postgres(client))

    def open_connections(self) -> int:
        """Connections this worker holds right now (pool members on PostgreSQL)."""
        if self._context is None:
            return 0
        total = 0
        for client in self._context.connections.all():
            pool = getattr(client, "_pool", None)
            if pool is not None:
                total += pool.get_size()
            elif getattr(client, "_connection", None) is not None:
                total += 1
        return total

    def connections_in_use(self) -> int:
        """Connections checked out of the pool by a query or transaction right now."""
        if self._context is None:
            return 0
        busy = 0
        for client in self._context.connections.all():
            pool = getattr(client, "_pool", None)
            if pool is not None:
                busy += pool.get_size() - pool.get_idle_size()
        return busy

    async def ping(self, timeout: float) -> None:
        """Raise TimeoutError if the database does not answer `SELECT 1` within `timeout`
        seconds.

        Not `wait_for` or `asyncio.timeout`: their timer copies the caller's context (the
        request, body included), and asyncio keeps a cancelled timer until it is due, so
        every readiness probe outlived its answer by `timeout`. This timer is made in an
        empty context and knows the task it bounds only weakly."""
        if self._context is None:
            raise RuntimeError("database is not open")
        client = self._context.db()
        task = asyncio.current_task()
        assert task is not None
        bounded = weakref.ref(task)
        expired = False

        def expire() -> None:
            nonlocal expired
            if (waiting := bounded()) is not None:
                expired = True
                waiting.cancel()

        loop = asyncio.get_running_loop()
        timer = loop.call_later(timeout, expire, context=contextvars.Context())
        try:
            await client.execute_query("SELECT 1")
        except asyncio.CancelledError:
            if expired and task.uncancel() == 0:  # ours, not the caller's
                raise TimeoutError(f"the database did not answer within {timeout}s") from None
            raise
        finally:
            timer.cancel()

    async def close(self) -> int:
        """Close every connection; return (and remember) how many were open."""
        if self._context is None:
            return 0
        count = self.open_connections()
        context, self._context = self._context, None
        HOT_READS.close(self)
        await context.close_connections()
        self.closed_count = count
        return count
