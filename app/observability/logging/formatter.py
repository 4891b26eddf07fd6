"""The JSON line format: one object per line, with the fields every line starts with."""

from __future__ import annotations

import logging
import os
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
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload).decode()
