"""The main process's stop signals wait until a worker-state proxy call has returned."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from app.compat.manager_signals import SignalGuard, inside_proxy_call


@contextmanager
def restored_handlers(*signums: int) -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in signums}
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in saved.items():
            signal.signal(signum, handler)


class SignalDuringReceive:
    """A proxy connection that receives a signal while waiting for its reply."""

    def __init__(self, connection: Any, signum: int) -> None:
        self._connection = connection
        self._signum = signum
        self.fired = False

    def send(self, obj: Any) -> None:
        self._connection.send(obj)

    def recv(self) -> Any:
        if not self.fired:
            self.fired = True
            os.kill(os.getpid(), self._signum)  # handled before the reply is read
        return self._connection.recv()

    def close(self) -> None:
        self._connection.close()


def test_sanic_alone_a_stop_signal_inside_a_proxy_call_breaks_it() -> None:
    """What `app/compat/manager_signals.py` is for: Sanic's handler, run as the signal
    arrives, makes proxy calls of its own on the connection whose reply the interrupted
    call is waiting for, and the two calls' replies cross. Fails the day Sanic defers
    its handler (then delete the workaround)."""
    with multiprocessing.get_context("spawn").Manager() as manager:
        shared = manager.dict()
        shared["worker"] = {"state": "ACKED"}

        def stop_workers(signum: int, frame: FrameType | None) -> None:
            shared["worker"] = {**shared["worker"], "state": "TERMINATED"}

        with restored_handlers(signal.SIGUSR1):
            signal.signal(signal.SIGUSR1, stop_workers)
            connection = SignalDuringReceive(shared._tls.connection, signal.SIGUSR1)
            shared._tls.connection = connection
            outcome: object
            try:
                outcome = shared["worker"]  # the signal arrives during this call
            except Exception as error:  # a reply of the wrong kind
                outcome = error
            finally:
                shared._tls.connection = connection._connection
        assert connection.fired
        assert outcome != {"state": "ACKED"}  # not its own reply


def test_a_stop_signal_inside_a_proxy_call_is_handled_after_it() -> None:
    events: list[str] = []
    with multiprocessing.get_context("spawn").Manager() as manager:
        shared = manager.dict()
        shared["worker"] = {"state": "ACKED"}

        def stop_workers(signum: int, frame: FrameType | None) -> None:
            # What Sanic's handler does: more calls on the same proxy.
            events.append(f"handler inside={inside_proxy_call(frame)}")
            shared["worker"] = {**shared["worker"], "state": "TERMINATED"}

        guard = SignalGuard({signal.SIGUSR1: stop_workers})
        with restored_handlers(signal.SIGUSR1, signal.SIGALRM):
            signal.signal(signal.SIGUSR1, guard)
            signal.signal(signal.SIGALRM, guard.retry)
            connection = SignalDuringReceive(shared._tls.connection, signal.SIGUSR1)
            shared._tls.connection = connection
            try:
                value = shared["worker"]  # the signal arrives during this call
                events.append("call returned")
            finally:
                shared._tls.connection = connection._connection
            deadline = time.monotonic() + 5
            while len(events) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)  # SIGALRM brings the held signal back
        assert connection.fired
        assert value == {"state": "ACKED"}  # its own reply, not the handler's
        assert events == ["call returned", "handler inside=False"]
        assert shared["worker"] == {"state": "TERMINATED"}


def test_a_stop_signal_elsewhere_is_handled_at_once() -> None:
    seen: list[int] = []
    guard = SignalGuard({signal.SIGUSR1: lambda signum, frame: seen.append(signum)})
    with restored_handlers(signal.SIGUSR1, signal.SIGALRM):
        signal.signal(signal.SIGUSR1, guard)
        signal.signal(signal.SIGALRM, guard.retry)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert seen == [signal.SIGUSR1]
