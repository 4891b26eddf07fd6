"""Background jobs: what a job is, and the one loop shape most of them share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from app.runtime.outages import OncePer, outage_kind

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A long-running job: loops until its stop event is set, then cleans up and returns."""


async def wait_at_most(event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set (a stop or a wake-up), but no longer than `seconds`.

    `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 `wait_for` wraps the wait in
    a task of its own, so every sleeping job had a second, short-lived task (the
    dispatcher made twenty a second), and a count of the loop's tasks depended on which
    jobs happened to be asleep."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def periodic(
    step: Callable[[], Awaitable[object]], interval: float, logger: logging.Logger, what: str
) -> Job:
    """A job that runs `step` every `interval` seconds until stopped; a failing step is
    logged and tried again at the next interval, never ends the job. A database outage
    is no bug of the step: one line per kind of outage, without a traceback."""
    outages = OncePer(logger)

    async def run_periodically(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await step()
            except Exception as error:
                outage = outage_kind(error)
                if outage is None:
                    logger.exception("%s failed; trying again in %.0fs", what, interval)
                else:
                    outages.warning(
                        outage,
                        f"database unavailable ({outage}): {what} waits {interval:.0f}s",
                    )
            await wait_at_most(stop, interval)

    return run_periodically
