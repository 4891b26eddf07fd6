"""The one place that starts, tracks and stops background jobs in a worker.

Jobs are started through `spawn`, which the lifecycle binds to Sanic's
`app.add_task(..., register=False)`: Sanic cancels *registered* named tasks before
`before_server_stop`, and a cancelled task that awaits while handling the cancellation
hangs shutdown (sanic #2906). Instead every job gets a stop event; `stop()` sets them
all in `before_server_stop`, waits a bounded time for the jobs to finish their own
cleanup (releasing leases, closing connections), and only then cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from app.runtime import origin
from app.runtime.jobs import Job

logger = logging.getLogger("onramp.tasks")

Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None] | None"]


@dataclass
class StopReport:
    drained: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Running:
    task: asyncio.Task[None]
    stop: asyncio.Event


async def _as_job(name: str, job: Job, stop: asyncio.Event) -> None:
    """Run `job` with its name as the origin of what it changes (the audit log's `job`)."""
    origin.from_job(name)
    await job(stop)


class TaskSupervisor:
    """Owns this worker's background jobs from start to a bounded stop."""

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._jobs: dict[str, _Running] = {}
        self._stopping = False
        self._stopping_since = 0.0
        self._at_stop: dict[asyncio.Task[None], str] = {}
        """The jobs alive when the stop began: what the report accounts for."""
        self._cancelled: set[asyncio.Task[None]] = set()
        self.report = StopReport()

    def start(self, name: str, job: Job) -> asyncio.Task[None]:
        """Start `job` under `name` (one live job per name) on the running loop."""
        if self._stopping:
            raise RuntimeError(f"cannot start {name!r}: the worker is stopping")
        current = self._jobs.get(name)
        if current is not None and not current.task.done():
            raise RuntimeError(f"a job named {name!r} is already running")
        stop = asyncio.Event()
        task = self._spawn(_as_job(name, job, stop), name)
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
        """Ask every job to stop, wait up to `timeout` seconds, cancel the rest.

        Safe to call again: Sanic runs the whole `before_server_stop` sequence a second
        time when the loop is stopped during the first run (a stop repeated while the
        worker was already shutting down). A second call waits for what the first left
        running, and the report still accounts for every job alive at the first.
        """
        if not self._stopping:
            self._stopping = True
            self._stopping_since = time.perf_counter()
            self._at_stop = {
                job.task: name for name, job in self._jobs.items() if not job.task.done()
            }
        for job in self._jobs.values():
            job.stop.set()
        live = [task for task in self._at_stop if not task.done()]
        pending: set[asyncio.Task[None]] = set()
        if live:
            _, pending = await asyncio.wait(live, timeout=timeout)
        for task in pending:
            task.cancel()
            self._cancelled.add(task)
        if pending:
            # A job that swallows cancellation is reported, not waited for forever.
            await asyncio.wait(pending, timeout=1.0)
        report = StopReport()
        for task, name in self._at_stop.items():
            if task in self._cancelled:
                report.cancelled.append(name)
            elif not task.done() or task.cancelled() or task.exception() is not None:
                report.failed.append(name)
            else:
                report.drained.append(name)
        self._jobs = {n: j for n, j in self._jobs.items() if not j.task.done()}
        report.seconds = time.perf_counter() - self._stopping_since
        self.report = report
        return report

    def _log_unexpected_end(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopping:
            return
        error = task.exception()
        if error is not None:
            logger.error("background job %s crashed", task.get_name(), exc_info=error)
        else:
            logger.warning("background job %s ended on its own", task.get_name())
