"""Logging: Sanic's own config plus the `onramp` loggers, whose lines carry the request id.

`LOG_FORMAT=json` (production) writes one JSON object per line, which log shippers
parse without rules; `text` (development) is for people. Headers are never logged, so
no Authorization value or token can end up in a log line.

The `onramp` lines (one per request in production) go through `BufferedStreamHandler`:
a write system call per line costs as much as a small request, so while a worker runs
(`log_flusher_job`) INFO lines are written in batches, at least once per
LOG_FLUSH_INTERVAL. Outside that window, and for warnings and errors, every line is
written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
import weakref
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, ClassVar, TextIO

import orjson
from sanic import Request

from app.http.request_id import request_id
from app.observability.process import current_pid

# Attributes a request line adds to its record (logger.info(..., extra={...})).
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")
_SOURCE_FILE = logging._srcfile


def worker_name() -> str:
    return os.environ.get("SANIC_WORKER_NAME", "main")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the current request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = request_id(Request.get_current())
            except Exception:  # no request in this context (listeners, background jobs)
                record.request_id = "-"
        return True


_last_second: tuple[int, str] = (-1, "")
"""The last second formatted, reused by every line within it (one per request); one
tuple, so a thread never pairs one second's number with another's text."""


def _utc_millis(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, cheaper."""
    global _last_second
    second = int(created)
    micro = round((created - second) * 1_000_000)  # as datetime.fromtimestamp rounds
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    cached_second, text = _last_second
    if second != cached_second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (second, text)
    return f"{text}.{micro // 1000:03d}+00:00"


def json_payload(
    created: float, level: str, logger: str, message: str, request_id: str
) -> dict[str, Any]:
    """The fields every JSON line starts with."""
    return {
        "time": _utc_millis(created),
        "level": level,
        "logger": logger,
        "message": message,
        "request_id": request_id,
        "worker": worker_name(),
        "pid": current_pid(),
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = json_payload(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "request_id", "-"),
        )
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                payload[field] = getattr(record, field)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload).decode()


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
        self.acquire()
        try:
            self._hold(line)
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

    def _hold(self, line: str) -> None:
        self._pending.append(line + self.terminator)
        self._pending_size += len(line) + 1
        if self._pending_size >= self.limit:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        with contextlib.suppress(OSError, ValueError):  # a closed stream: nothing to do
            self.stream.write(text)
            self.stream.flush()


class RequestLog:
    """The one line per request, written without the logging machinery when it can be.

    Through `Logger.info` (a LogRecord, filters, locks, a Formatter) the line cost about
    20 µs per request here, as much as the rest of a `/health` request. When every
    handler that would get the line is ours and writes JSON, the line is built here in
    the same shape `JsonFormatter` gives it and handed to them directly; otherwise (text
    format, handlers someone else configured) it goes through `Logger.info` as usual.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def write(
        self, request_id: str, method: str, route: str, status: int, duration_ms: float
    ) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        message = f"{method} {route} {status} {duration_ms:.1f}ms"
        handlers = _direct_handlers(logger)
        if handlers is None:
            logger.info(
                message,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            return
        payload = json_payload(time.time(), "INFO", logger.name, message, request_id)
        payload["method"] = method
        payload["route"] = route
        payload["status"] = status
        payload["duration_ms"] = duration_ms
        line = orjson.dumps(payload).decode()
        for handler in handlers:
            handler.write_formatted(line)


def _direct_handlers(logger: logging.Logger) -> list[BufferedStreamHandler] | None:
    """The handlers `logger` would call for an INFO record, if all can take a JSON line."""
    found: list[BufferedStreamHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if not (
                isinstance(handler, BufferedStreamHandler)
                and isinstance(handler.formatter, JsonFormatter)
                and handler.level <= logging.INFO
            ):
                return None
            found.append(handler)
        current = current.parent if current.propagate else None
    return found


def set_log_buffering(limit: int) -> None:
    """Buffer up to `limit` bytes of INFO lines per handler (0: write every line at once)."""
    for handler in list(BufferedStreamHandler.instances):
        handler.set_limit(limit)


def log_flusher_job(
    limit: int, interval: float
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A supervised job: buffering exists exactly while something flushes it."""

    async def flush_periodically(stop: asyncio.Event) -> None:
        set_log_buffering(limit)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
                for handler in list(BufferedStreamHandler.instances):
                    handler.flush()
        finally:
            set_log_buffering(0)

    return flush_periodically


def set_record_fields(log_format: str) -> None:
    """What each log record collects, from what the format prints.

    The JSON lines print neither thread nor process names nor the caller's source line,
    and take the pid from `current_pid`: the logging HOWTO's "Optimization" switches save
    a stack walk and a `getpid` system call per record. Text lines keep everything.
    """
    full = log_format != "json"
    logging.logThreads = full
    logging.logProcesses = full
    logging.logMultiprocessing = full
    logging._srcfile = _SOURCE_FILE if full else None


def logging_config(level: str, log_format: str = "text") -> dict[str, Any]:
    from sanic.log import LOGGING_CONFIG_DEFAULTS

    # Two levels deep (streams in handlers cannot be deep-copied).
    config: dict[str, Any] = {
        key: {name: dict(entry) for name, entry in value.items()}
        if isinstance(value, dict)
        else value
        for key, value in LOGGING_CONFIG_DEFAULTS.items()
    }
    config["filters"] = {"request_id": {"()": RequestIdFilter}}
    config["formatters"]["onramp"] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {
            "format": "%(asctime)s %(levelname)s [%(process)d] %(name)s "
            "request_id=%(request_id)s %(message)s",
        }
    )
    config["handlers"]["onramp_console"] = {
        "class": "app.observability.logs.BufferedStreamHandler",
        "formatter": "onramp",
        "filters": ["request_id"],
        "stream": sys.stderr,
    }
    config["loggers"]["onramp"] = {
        "level": level,
        "handlers": ["onramp_console"],
        "propagate": False,
    }
    if log_format == "json":  # Sanic's own lines too, so one parser reads everything
        for handler in ("console", "error_console", "access_console"):
            config["handlers"][handler]["formatter"] = "onramp"
            config["handlers"][handler]["filters"] = ["request_id"]
    return config
