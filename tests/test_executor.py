"""The bounded CPU pool (`app/runtime/executor.py`): what waits and what is refused, on
real threads, ordered by events rather than by time."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import pytest

from app.errors import Overloaded
from app.runtime.executor import BlockingExecutor


async def _until(condition: Callable[[], bool], loops: int = 1000) -> None:
    """Let the loop run until `condition` holds (a bounded number of turns)."""
    for _ in range(loops):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def test_a_waiting_call_whose_caller_left_never_runs() -> None:
    """One thread, held busy; a call queued behind it is cancelled (its client went
    away): once the thread is free, the next call runs and the cancelled one never did.
    The pool runs its queue in order, so had the cancelled call run, it would be first."""
    executor = BlockingExecutor(max_workers=1, max_waiting=2)
    executor.open()
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> None:
        busy = asyncio.create_task(executor.run(release.wait, 10.0))
        await _until(lambda: executor.in_flight == 1)
        waiting = asyncio.create_task(executor.run(ran.append, "left"))
        await _until(lambda: executor.in_flight == 2)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert executor.in_flight == 1  # it left the queue, and its place
        release.set()
        assert await busy is True
        await executor.run(ran.append, "next")

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        executor.close()
    assert ran == ["next"]
    assert executor.in_flight == 0


def test_a_full_pool_refuses_at_once() -> None:
    """Every thread busy and every waiting place taken: the next call is refused without
    waiting, and counted."""
    executor = BlockingExecutor(max_workers=1, max_waiting=1)
    executor.open()
    release = threading.Event()

    async def scenario() -> None:
        held = [asyncio.create_task(executor.run(release.wait, 10.0)) for _ in range(2)]
        await _until(lambda: executor.in_flight == 2)
        with pytest.raises(Overloaded):
            await executor.run(release.wait, 10.0)
        release.set()
        assert await asyncio.gather(*held) == [True, True]

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        executor.close()
    assert executor.refused == 1
