"""Main process: a stop signal that arrives while workers are still starting stops the
server, instead of leaving the main process spinning forever.

Sanic 25.12's worker manager first waits for every worker to report it is ready
(`WorkerManager.wait_for_ack`). A SIGTERM or SIGINT in that window is handled by
sending `None` down the monitor pipe and terminating the workers; `wait_for_ack` reads
that message, sends it back down the pipe for the monitor loop, and goes on waiting for
readiness reports, which the terminated workers will now never send. The loop then
reads and re-sends its own message forever, at 100 % of a core, without ever counting
towards its timeout: `systemctl stop` (or a deploy) in the second or two of a start
never finishes. Seen in the benchmark's cold starts and reproduced on the first try by
stopping as soon as one of two workers answered.

Here the manager stops waiting for readiness once it is shutting down; the monitor
loop then reads the stop message and the manager shuts down as usual.
"""

from __future__ import annotations

from typing import Any

from sanic.worker.manager import WorkerManager

from app.compat import Workaround

WORKAROUND = Workaround(
    name="manager_stop_at_start",
    package="sanic",
    written_for="25.12.1",
    upstream="report ready to file: docs/upstream/sanic-stop-during-worker-start.md",
    summary="a stop signal before every worker is ready leaves the main process spinning",
    shown_by="tests/test_compat_manager_stop_at_start.py::test_a_stop_during_start_ends_the_wait_for_workers",
)

_ORIGINAL = WorkerManager.__dict__["_all_workers_ack"]


def all_workers_ack_or_stopping(self: Any) -> bool:
    """Sanic's readiness check, which also ends the wait once a shutdown has begun."""
    return bool(self._shutting_down or _ORIGINAL(self))


def apply(enabled: bool = True) -> None:
    WorkerManager._all_workers_ack = (  # type: ignore[method-assign]
        all_workers_ack_or_stopping if enabled else _ORIGINAL
    )
