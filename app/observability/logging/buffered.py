"""Buffered log writing: a write system call per line costs as much as a small request.

While a worker runs (`log_flusher_job`, supervised), INFO lines are written in batches,
at least once per LOG_FLUSH_INTERVAL. Outside that window, and for warnings and errors,
every line is written at once (with whatever was waiting, so the order holds).

A line may also be held unformatted (`write_deferred`): what makes its text, and the
values, kept until the batch is written. The request log does that: formatting a
hundred lines in one loop costs a fraction of formatting each in its request, where
the code is cold in the CPU's caches (`app.observability.logging.request_log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, ClassVar, TextIO

from app.runtime.jobs import Job, wait_at_most

JOB_NAME = "logs.flusher"

Deferred = tuple[Any, ...]
"""A line not formatted yet: `(make_text, size, *values)`; `make_text(line)` gives it."""


class BufferedStreamHandler(logging.StreamHandler[TextIO]):
    """A stream handler that holds INFO lines back while buffering is on (`limit` > 0)."""

    instances: ClassVar[weakref.WeakSet[BufferedStreamHandler]] = weakref.WeakSet()

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.limit = 0
        self._pending: list[str | Deferred] = []
        self._pending_size = 0
        BufferedStreamHandler.instances.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        # Called by Handler.handle with self.lock held.
        if self.limit <= 0 or record.levelno >= logging.WARNING:
            self._write_pending()
            super().emit(record)  # flushes the stream; exceptions formatted as usual
            return
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._hold(line, len(line))

    def write_formatted(self, line: str) -> None:
        """A line formatted by the caller, buffered like an INFO record."""
        self.acquire()
        try:
            self._hold(line, len(line))
        finally:
            self.release()

    def write_deferred(self, line: Deferred) -> None:
        """A line held as (make its text, its size in characters, values...), formatted
        when the batch is written; buffered like an INFO record. (`_hold`, written out:
        this runs once per request.)"""
        self.acquire()
        try:
            self._pending.append(line)
            self._pending_size += line[1] + 1
            if self._pending_size >= self.limit:
                self._write_pending()
        finally:
            self.release()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()
        super().flush()

    def set_limit(self, limit: int) -> None:
        self.acquire()
        try:
            self.limit = limit
            self._write_pending()
        finally:
            self.release()

    def _hold(self, line: str | Deferred, size: int) -> None:
        self._pending.append(line)  # the terminators are added when written
        self._pending_size += size + 1
        if self._pending_size >= self.limit:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        terminator = self.terminator
        text = terminator.join(
            [line if isinstance(line, str) else line[0](line) for line in self._pending]
        )
        text += terminator
        self._pending.clear()
        self._pending_size = 0
        with contextlib.suppress(OSError, ValueError):  # a closed stream: nothing to do
            self.stream.write(text)
            self.stream.flush()


def set_log_buffering(limit: int) -> None:
    """Buffer up to `limit` bytes of INFO lines per handler (0: write every line at once)."""
    for handler in list(BufferedStreamHandler.instances):
        handler.set_limit(limit)


def log_flusher_job(limit: int, interval: float) -> Job:
    """A supervised job: buffering exists exactly while something flushes it."""

    async def flush_periodically(stop: asyncio.Event) -> None:
        set_log_buffering(limit)
        try:
            while not stop.is_set():
                await wait_at_most(stop, interval)
                for handler in list(BufferedStreamHandler.instances):
                    handler.flush()
        finally:
            set_log_buffering(0)

    return flush_periodically
