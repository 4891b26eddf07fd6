"""One bounded thread pool per worker for CPU-heavy calls (password hashing).

argon2 releases the GIL, so a few threads keep the event loop free while hashing.
The pool is opened when the worker starts and closed when it stops: never one per call.
Its queue is bounded too: with every thread busy and `max_waiting` calls waiting, the
next call is refused at once (`Overloaded`, 503 with Retry-After) instead of queueing
behind work whose clients may long have gone. A waiting call whose caller is cancelled
(the client went away) leaves the queue without running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from app.errors import Overloaded

P = ParamSpec("P")
T = TypeVar("T")


logger = logging.getLogger("onramp.executor")

BUSY = "The server is busy; try again in a moment"
WARN_EVERY = 10.0  # seconds between "at capacity" lines: a burst is one line, not thousands


class BlockingExecutor:
    def __init__(self, max_workers: int, max_waiting: int) -> None:
        self._max_workers = max_workers
        self._capacity = max_workers + max_waiting
        self._pool: ThreadPoolExecutor | None = None
        self.in_flight = 0
        self.refused = 0
        self._warned_at = -WARN_EVERY
        self._refused_since_warning = 0
        self.closed_count = 0

    def open(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="onramp-cpu"
            )

    def ensure_room(self) -> None:
        """Refuse now (`Overloaded`) what `run` would refuse now.

        For a caller with work to do before its call (a signup or a login reads and
        writes the database first): under a flood it is refused before that work, at
        once, instead of after it, when its client may have given up. `run` still
        decides: the pool may fill in between.
        """
        if self.in_flight >= self._capacity:
            self._refuse()
            raise Overloaded(BUSY, retry_after=1)

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `func` on the pool. Cancelled before a thread took it, it never runs."""
        if self._pool is None:
            raise RuntimeError("the blocking executor is not open")
        self.ensure_room()
        self.in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, lambda: func(*args, **kwargs))
        finally:
            self.in_flight -= 1

    def _refuse(self) -> None:
        self.refused += 1
        self._refused_since_warning += 1
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            logger.warning(
                "CPU pool at capacity (%d running or waiting): refused %d call(s) since the "
                "last warning",
                self.in_flight,
                self._refused_since_warning,
            )
            self._warned_at = now
            self._refused_since_warning = 0

    def close(self) -> int:
        """Stop the threads (waiting for running calls); return how many pools closed."""
        if self._pool is None:
            return 0
        pool, self._pool = self._pool, None
        pool.shutdown(wait=True, cancel_futures=True)
        self.closed_count = 1
        return 1
