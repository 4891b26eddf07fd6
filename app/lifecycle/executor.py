"""One bounded thread pool per worker for CPU-heavy calls (password hashing).

argon2 releases the GIL, so a few threads keep the event loop free while hashing.
The pool is created at worker start and shut down at stop: never one per call.
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
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="onramp-cpu"
        )

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._pool is None:
            raise RuntimeError("the blocking executor is shut down")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: func(*args, **kwargs))

    def shutdown(self) -> int:
        """Stop the threads (waiting for running calls); return how many pools closed."""
        if self._pool is None:
            return 0
        pool, self._pool = self._pool, None
        pool.shutdown(wait=True, cancel_futures=True)
        return 1
