"""One bounded thread pool per worker for CPU-heavy calls (password hashing).

argon2 releases the GIL, so a few threads keep the event loop free while hashing.
The pool is opened when the worker starts and closed when it stops: never one per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BlockingExecutor:
    def __init__(self, max_workers: int) -> None:
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self.closed_count = 0

    def open(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="onramp-cpu"
            )

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `func` on the pool. Cancelled before a thread took it, it never runs."""
        if self._pool is None:
            raise RuntimeError("the blocking executor is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: func(*args, **kwargs))

    def close(self) -> int:
        """Stop the threads (waiting for running calls); return how many pools closed."""
        if self._pool is None:
            return 0
        pool, self._pool = self._pool, None
        pool.shutdown(wait=True, cancel_futures=True)
        self.closed_count = 1
        return 1
