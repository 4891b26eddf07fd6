"""Background jobs: what a job is, and the one loop shape most of them share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A long-running job: loops until its stop event is set, then cleans up and returns."""


async def wait_at_most(event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set (a stop or a wake-up), but no longer than `seconds`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def periodic(
    step: Callable[[], Awaitable[object]], interval: float, logger: logging.Logger, what: str
) -> Job:
    """A job that runs `step` every `interval` seconds until stopped; a failing step is
    logged and tried again at the next interval, never ends the job."""

    async def run_periodically(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await step()
            except Exception:
                logger.exception("%s failed; trying again in %.0fs", what, interval)
            await wait_at_most(stop, interval)

    return run_periodically
