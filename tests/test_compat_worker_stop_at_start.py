"""A worker's stop signal that arrives while it finishes starting still stops it
(`app/compat/worker_stop_at_start.py`), on real event loops (asyncio's and uvloop's) and
real signals. Each test first shows the loss with Sanic's handling alone."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvloop

from app.compat.worker_stop_at_start import REPEAT_SECONDS, StopUntilStopping

# Seconds after which the test stops a loop that would serve forever: a loop that stopped
# sooner was stopped by the signal (how much sooner depends on the machine's load).
SAFETY = 2.0
SIGNAL = signal.SIGUSR1  # a stop signal for the test (SIGINT would reach pytest)

LOOPS: list[Callable[[], asyncio.AbstractEventLoop]] = [
    asyncio.new_event_loop,
    uvloop.new_event_loop,
]


class App:
    """What Sanic's `app.stop(terminate=False)` does to the loop."""

    def __init__(self) -> None:
        self.stops = 0

    def stop(self, terminate: bool = True) -> None:
        self.stops += 1
        asyncio.get_event_loop().stop()


@contextmanager
def worker_loop(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> Iterator[tuple[asyncio.AbstractEventLoop, App]]:
    """A loop with Sanic's signal handling: ignored, then `app.stop` on the loop."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    app = App()
    previous = signal.signal(SIGNAL, signal.SIG_IGN)
    loop.add_signal_handler(SIGNAL, lambda: app.stop(terminate=False))
    try:
        yield loop, app
    finally:
        loop.remove_signal_handler(SIGNAL)
        signal.signal(SIGNAL, previous)
        asyncio.set_event_loop(None)
        loop.close()


def serving_seconds(loop: asyncio.AbstractEventLoop) -> float:
    """How long `run_forever` (Sanic's serving phase) runs."""
    started = time.monotonic()
    safety = loop.call_later(SAFETY, loop.stop)
    loop.run_forever()
    safety.cancel()
    return time.monotonic() - started


def start(loop: asyncio.AbstractEventLoop, app: App, fixed: bool) -> StopUntilStopping | None:
    """The `after_server_start` listeners' run, with or without the workaround."""
    handler = StopUntilStopping(app, loop) if fixed else None
    if handler is not None:
        handler.install([SIGNAL])
    loop.run_until_complete(asyncio.sleep(0))
    return handler


@pytest.mark.parametrize("fixed", [False, True], ids=["sanic alone", "with the workaround"])
def test_a_signal_between_two_loop_runs(fixed: bool) -> None:
    """uvloop drops a signal that arrives while no run is in progress (Sanic calls the
    worker manager between the start listeners' run and `run_forever`)."""
    with worker_loop(uvloop.new_event_loop) as (loop, app):
        handler = start(loop, app, fixed)
        os.kill(os.getpid(), SIGNAL)  # during `set_serving`, between the runs
        seconds = serving_seconds(loop)
        if not fixed:
            assert seconds >= SAFETY  # served on
            return
        assert seconds < SAFETY  # stopped, not served on
        assert handler is not None
        handler.shutting_down()
        loop.run_until_complete(asyncio.sleep(2 * REPEAT_SECONDS))  # shutdown: not stopped


@pytest.mark.parametrize("new_loop", LOOPS, ids=["asyncio", "uvloop"])
@pytest.mark.parametrize("fixed", [False, True], ids=["sanic alone", "with the workaround"])
def test_a_stop_in_the_iteration_that_ends_the_start_listeners(
    new_loop: Callable[[], asyncio.AbstractEventLoop], fixed: bool
) -> None:
    """The stop lands beside `run_until_complete`'s own: one flag, cleared."""
    with worker_loop(new_loop) as (loop, app):
        handler = StopUntilStopping(app, loop) if fixed else None

        async def last_start_listener() -> None:
            stop = handler.stop_now if handler else (lambda: app.stop(terminate=False))
            loop.call_soon(stop)  # queued as the listeners finish

        loop.run_until_complete(last_start_listener())
        seconds = serving_seconds(loop)
        if not fixed:
            assert seconds >= SAFETY
            return
        assert seconds < SAFETY  # stopped by the repeat, not served on
        assert handler is not None
        handler.shutting_down()
        loop.run_until_complete(asyncio.sleep(2 * REPEAT_SECONDS))
        assert app.stops == 2  # the lost one, and the repeat


def test_a_normal_stop_is_one_stop() -> None:
    with worker_loop(uvloop.new_event_loop) as (loop, app):
        handler = start(loop, app, fixed=True)
        assert handler is not None
        loop.call_later(0.05, os.kill, os.getpid(), SIGNAL)  # while serving
        assert serving_seconds(loop) < SAFETY
        handler.shutting_down()  # the first stop listener
        loop.run_until_complete(asyncio.sleep(2 * REPEAT_SECONDS))  # the shutdown's runs
        assert handler.requested
        assert app.stops <= 2  # ours and Sanic's own handler, nothing after
