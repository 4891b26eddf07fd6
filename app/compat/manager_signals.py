"""Main process: SIGTERM/SIGINT reach Sanic's worker manager only between two calls
to its shared worker-state dict, never in the middle of one.

Sanic 25.12's manager stops the workers from inside its signal handler, and that talks
to the worker-state dict, a `multiprocessing` Manager proxy. Its monitor loop syncs
that dict every 0.1 s; when the signal lands during one of those calls, the handler's
calls share the same connection, the replies cross, and the main process exits 1 after
its workers stopped cleanly (`TypeError: 'NoneType' object is not a mapping` in
`WorkerProcess.set_state`). Seen in 2 of 6 CI runs here, on a plain `kill -TERM`.

The guard wraps the manager's handlers (installed in `main_process_ready`, after the
manager set them): a signal that arrives inside a proxy call is held and handled
`RETRY_SECONDS` later (SIGALRM, unused by Sanic), by which time the call has returned.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from multiprocessing.managers import BaseProxy
from types import FrameType
from typing import Any

from app.compat import Workaround

WORKAROUND = Workaround(
    name="manager_signals",
    package="sanic",
    written_for="25.12.1",
    upstream="report ready to file: docs/upstream/sanic-manager-signal-race.md",
    summary="a stop signal inside a worker-state proxy call makes the main process exit 1",
    shown_by="tests/test_signals.py::test_sanic_alone_a_stop_signal_inside_a_proxy_call_breaks_it",
)

RETRY_SECONDS = 0.005
# The code object of the one function every proxy call goes through.
_PROXY_CALL = BaseProxy._callmethod.__code__

Handler = Callable[[int, FrameType | None], Any]


def inside_proxy_call(frame: FrameType | None) -> bool:
    """Whether `frame` (where a signal interrupted the main thread) is in a proxy call."""
    while frame is not None:
        if frame.f_code is _PROXY_CALL:
            return True
        frame = frame.f_back
    return False


class SignalGuard:
    """Runs `handler` for a signal at once, or a moment later if it interrupted a proxy
    call; SIGALRM brings the held signals back."""

    def __init__(self, handlers: dict[int, Handler]) -> None:
        self._handlers = handlers
        self._held: list[int] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if inside_proxy_call(frame):
            self._held.append(signum)
            signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)
            return
        self._handlers[signum](signum, frame)

    def retry(self, _signum: int, frame: FrameType | None) -> None:
        held, self._held = self._held, []
        for signum in held:
            self(signum, frame)

    def install(self) -> None:
        for signum in self._handlers:
            signal.signal(signum, self)
        signal.signal(signal.SIGALRM, self.retry)


def guard_shutdown_signals() -> SignalGuard | None:
    """Wrap the current SIGTERM and SIGINT handlers (the worker manager's)."""
    handlers: dict[int, Handler] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(signum)
        if callable(current) and not isinstance(current, SignalGuard):
            handlers[signum] = current
    if not handlers:
        return None
    guard = SignalGuard(handlers)
    guard.install()
    return guard
