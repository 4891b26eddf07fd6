"""Units of database work finish even when their caller is cancelled.

A client that disconnects cancels its request's handler. Cancelled while Tortoise
opens a transaction (after taking a pool connection, before BEGIN returns), that
connection is never given back (tortoise-orm 1.1.9, `TransactionContextPooled.__aenter__`):
the pool loses one connection per such disconnect until requests wait forever. Shielded,
the work commits or rolls back and releases its connection; only the waiting for it is
cancelled. A failure nobody is left to see is logged.

Keep shielded units small: what runs before them (password hashing, for one) stays
cancellable, so a client that left costs nothing more.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from app.compat import Workaround

WORKAROUND = Workaround(
    name="tortoise_cancel",
    package="tortoise-orm",
    written_for="1.1.9",
    upstream="not yet reported upstream: docs/upstream/tortoise-transaction-cancel-leak.md",
    summary="a cancelled transaction start leaks its pool connection",
)

logger = logging.getLogger("onramp.db")

P = ParamSpec("P")
T = TypeVar("T")

_enabled = True


def set_enabled(enabled: bool) -> None:
    """The off switch (`COMPAT_DISABLED=tortoise_cancel`), set once per worker."""
    global _enabled
    _enabled = enabled


def runs_to_completion(func: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorate a unit of database work so that a cancelled caller does not cut it short."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if not _enabled:
            return await func(*args, **kwargs)
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
