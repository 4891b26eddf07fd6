"""The database: one Tortoise context per worker, and migrations run once.

Tortoise 1.x keeps its state in a context variable. Sanic's handlers run in tasks
that do not inherit the listener's context, so the worker's context is also set as
Tortoise's global fallback (what `register_tortoise` does); otherwise every query
fails with "No TortoiseContext is currently active" and closing closes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from app.settings import Settings

logger = logging.getLogger("onramp.db")

P = ParamSpec("P")
T = TypeVar("T")

MODEL_MODULES = (
    "app.accounts.models",
    "app.vendors.models",
    "app.invitations.models",
    "app.mail.models",
)
MIGRATIONS_MODULE = "app.migrations"


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
        credentials["minsize"] = min(settings.DB_POOL_MIN, maxsize)
        credentials["maxsize"] = maxsize
        credentials["application_name"] = settings.DB_APPLICATION_NAME
        credentials["timeout"] = settings.DB_CONNECT_TIMEOUT
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_folder(file_path: str) -> None:
    if file_path != ":memory:":
        Path(file_path).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """This worker's connections: opened at start, closed at stop, counted in between."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context: TortoiseContext | None = None

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
        """Raise if the database does not answer `SELECT 1` within `timeout` seconds."""
        if self._context is None:
            raise RuntimeError("database is not open")
        client = self._context.db()
        await asyncio.wait_for(client.execute_query("SELECT 1"), timeout)

    async def close(self) -> int:
        """Close every connection; return how many were open."""
        if self._context is None:
            return 0
        count = self.open_connections()
        context, self._context = self._context, None
        await context.close_connections()
        return count


async def migrate(settings: Settings) -> None:
    """Apply pending migrations on one short-lived connection, closed before returning."""
    async with TortoiseContext():
        # `migrate_api` initialises the context entered above; leaving it closes the
        # connection and restores the previous context.
        await migrate_api(config=tortoise_config(settings, pool_max=1))
    logger.info("migrations applied to %s", _redacted(settings.DATABASE_URL))


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def runs_to_completion(func: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Let a unit of database work finish even when its caller is cancelled.

    A client that disconnects cancels its request's handler. Cancelled while Tortoise
    opens a transaction (after taking a pool connection, before BEGIN returns), that
    connection is never given back (tortoise-orm 1.1.9, `TransactionContextPooled`): the
    pool loses one connection per such disconnect until requests wait forever. Shielded,
    the work commits or rolls back and releases its connection; only the waiting for it
    is cancelled. A failure nobody is left to see is logged.
    """

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        task = asyncio.ensure_future(func(*args, **kwargs))
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
