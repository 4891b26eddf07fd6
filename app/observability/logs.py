"""Logging: Sanic's own config plus the `onramp` loggers, whose lines carry the request id.

`LOG_FORMAT=json` (production) writes one JSON object per line, which log shippers
parse without rules; `text` (development) is for people. Headers are never logged, so
no Authorization value or token can end up in a log line.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from sanic import Request

from app.http.request_id import request_id

# Attributes a request line adds to its record (logger.info(..., extra={...})).
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")


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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "worker": worker_name(),
            "pid": record.process,
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                payload[field] = getattr(record, field)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload).decode()


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
        "class": "logging.StreamHandler",
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
