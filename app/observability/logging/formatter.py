"""The JSON line format: one object per line, with the fields every line starts with."""

from __future__ import annotations

import logging
import os
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

from app.runtime.process import current_pid

# Attributes a request line adds to its record (logger.info(..., extra={...})).
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")


def worker_name() -> str:
    return os.environ.get("SANIC_WORKER_NAME", "main")


_last_second: tuple[int, str] = (-1, "")
"""The last second formatted, reused by every line within it (one per request); one
tuple, so a thread never pairs one second's number with another's text."""


def utc_millis(created: float) -> str:
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
        "time": utc_millis(created),
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
        if record.exc_info and record.exc_info[1] is not None:
            payload["exception"] = exception_fields(record.exc_info[1])
        return orjson.dumps(payload).decode()


MAX_CAUSES = 3


def exception_fields(error: BaseException, depth: int = 0) -> dict[str, Any]:
    """An exception as fields a log pipeline can query: type, message, frames (oldest
    first), and what it was raised from (a few levels)."""
    fields: dict[str, Any] = {
        "type": f"{type(error).__module__}.{type(error).__qualname__}".removeprefix("builtins."),
        "message": str(error),
        "frames": [
            {"file": frame.filename, "line": frame.lineno, "function": frame.name}
            for frame in traceback.extract_tb(error.__traceback__)
        ],
    }
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None and depth < MAX_CAUSES:
        fields["cause"] = exception_fields(cause, depth + 1)
    return fields
