"""Workers: a stop signal that arrives while a worker finishes starting is not lost.

Sanic 25.12 stops a worker through `loop.add_signal_handler(SIGINT/SIGTERM, app.stop)`,
set just before its `after_server_start` listeners run (one loop run until they
complete), which is followed by a blocking call to the worker manager (`set_serving`)
and `run_forever`.
Two ways the stop is lost, both traced here during stops sent while workers started:

- uvloop dispatches a signal handler only while the loop runs: a signal that arrives
  between two runs (during `set_serving`, say) is dropped, silently;
- a handler that runs in the same loop iteration in which that run stops itself (its
  listeners done) shares the loop's one stop flag with it; the run ends, the flag is
  cleared.

Either way the worker then serves in `run_forever` as if no signal had come; the main
process, which sent it, waits 10 s per worker (`WorkerProcess.exit`) and leaves them
serving, orphaned (3 of 45 such stops here, once `manager_stop_at_start` made them end
at all).

Here a Python-level handler (which runs whether the loop runs or not) remembers the
request and hands the stop to the loop with `call_soon_threadsafe`, so it happens when
the loop next runs; the stop is repeated every `REPEAT_SECONDS` until the worker's
shutdown has begun (its first `before_server_stop` listener ends the repeats). A repeat
can only run while the loop runs, so it ends the `run_forever` that should never have
started; in a normal stop the shutdown has begun long before the first repeat is due.
Sanic's own handler stays registered with the loop and still runs too.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable
from types import FrameType
from typing import Any

from app.compat import Workaround

WORKAROUND = Workaround(
    name="worker_stop_at_start",
    package="sanic",
    written_for="25.12.1",
    upstream="report ready to file: docs/upstream/sanic-stop-during-worker-start.md",
    summary="a worker that gets its stop signal while it finishes starting serves on",
    shown_by="tests/test_compat_worker_stop_at_start.py::test_a_signal_between_two_loop_runs",
)

REPEAT_SECONDS = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopUntilStopping:
    """A worker's stop-signal handling, beside Sanic's."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop
        self._repeat: asyncio.TimerHandle | None = None
        self._shutting_down = False
        self.requested = False

    def install(self, signals: Iterable[int] = STOP_SIGNALS) -> None:
        for signum in signals:
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Runs between two bytecodes of the main thread, loop running or not."""
        self.requested = True
        self._loop.call_soon_threadsafe(self.stop_now)

    def stop_now(self) -> None:
        if self._shutting_down:
            return
        self._app.stop(terminate=False)  # what Sanic's own handler does
        if self._repeat is None:
            self._repeat = self._loop.call_later(REPEAT_SECONDS, self._stop_again)

    def _stop_again(self) -> None:
        self._repeat = None
        self.stop_now()

    def shutting_down(self) -> None:
        """The worker's shutdown has begun: no more stops from here."""
        self._shutting_down = True
        if self._repeat is not None:
            self._repeat.cancel()
            self._repeat = None
