"""The one place that starts, tracks and stops background jobs in a worker.

Jobs are started with `app.add_task(..., register=False)`: Sanic cancels *registered*
named tasks before `before_server_stop`, and a cancelled task that awaits while
handling the cancellation hangs shutdown (sanic #2906). Instead every job gets a stop
event; `stop()` sets them all in `before_server_stop`, waits a bounded time for the
jobs to finish their own cleanup (releasing leases, closing connections), and only
then cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from app.types import OnrampApp

logger = logging.getLogger("onramp.tasks")

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A long-running job: loops until its stop event is set, then cleans up and returns."""


@dataclass
class StopReport:
    drained: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class _Running:
    task: asyncio.Task[None]
    stop: asyncio.Event


class TaskSupervisor:
    """Owns this worker's background jobs from start to a bounded stop."""

    def __init__(self, app: OnrampApp) -> None:
        self._app = app
        self._jobs: dict[str, _Running] = {}
        self._stopping = False

    def start(self, name: str, job: Job) -> asyncio.Task[None]:
        """Start `job` under `name` (one live job per name) on the running loop."""
        if self._stopping:
            raise RuntimeError(f"cannot start {name!r}: the worker is stopping")
        current = self._jobs.get(name)
        if current is not None and not current.task.done():
            raise RuntimeError(f"a job named {name!r} is already running")
        stop = asyncio.Event()
        task = self._app.add_task(job(stop), name=name, register=False)
        if task is None:  # only when the loop is not running yet
            raise RuntimeError(f"cannot start {name!r} before the server loop runs")
        task.add_done_callback(self._log_unexpected_end)
        self._jobs[name] = _Running(task, stop)
        return task

    def running(self) -> dict[str, bool]:
        """Each job's name and whether it is alive."""
        return {name: not job.task.done() for name, job in self._jobs.items()}

    def dead(self) -> list[str]:
        """Jobs that ended although nobody asked them to stop."""
        return [name for name, job in self._jobs.items() if job.task.done() and not self._stopping]

    async def stop(self, timeout: float) -> StopReport:
        """Ask every job to stop, wait up to `timeout` seconds, cancel the rest."""
        self._stopping = True
        report = StopReport()
        for job in self._jobs.values():
            job.stop.set()
        live = {job.task: name for name, job in self._jobs.items() if not job.task.done()}
        pending: set[asyncio.Task[None]] = set()
        if live:
            _, pending = await asyncio.wait(live, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            # A job that swallows cancellation is reported, not waited for forever.
            await asyncio.wait(pending, timeout=1.0)
        for task, name in live.items():
            if task in pending:
                report.cancelled.append(name)
            elif task.cancelled() or task.exception() is not None:
                report.failed.append(name)
            else:
                report.drained.append(name)
        self._jobs = {n: j for n, j in self._jobs.items() if not j.task.done()}
        return report

    def _log_unexpected_end(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopping:
            return
        error = task.exception()
        if error is not None:
            logger.error("background job %s crashed", task.get_name(), exc_info=error)
        else:
            logger.warning("background job %s ended on its own", task.get_name())
