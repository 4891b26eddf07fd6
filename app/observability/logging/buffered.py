"""Buffered log writing: a write system call per line costs as much as a small request.

While a worker runs (`log_flusher_job`, supervised), INFO lines are written in batches,
at least once per LOG_FLUSH_INTERVAL. Outside that window, and for warnings and errors,
every line is written at once (with whatever was waiting, so the order holds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import ClassVar, TextIO

from app.runtime.jobs import Job, wait_at_most

JOB_NAME = "logs.flusher"


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that holds INFO lines back while buffering is on (`limit` > 0)."""

    instances: ClassVar[weakref.WeakSet[BufferedStreamHandler]] = weakref.WeakSet()

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.limit = 0
        self._pending: list[str] = []
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
        self._hold(line)

    def write_formatted(self, line: str) -> None:
        """A line formatted by the caller (see `RequestLog`), buffered like an INFO record."""
        with self.lock:  # type: ignore[union-attr]  # made in Handler.__init__
            self._hold(line)

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

    def _hold(self, line: str) -> None:
        self._pending.append(line)  # the terminators are added when written
        self._pending_size += len(line) + 1
        if self._pending_size >= self.limit:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        terminator = self.terminator
        text = terminator.join(self._pending) + terminator
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
