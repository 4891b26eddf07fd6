"""Logging: Sanic's own config plus the `onramp` logger, whose lines carry the request id."""

from __future__ import annotations

import logging
import sys
from typing import Any

from sanic import Request
from sanic.log import LOGGING_CONFIG_DEFAULTS

from app.http.request_id import request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the current request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = request_id(Request.get_current())
            except Exception:  # no request in this context (listeners, background jobs)
                record.request_id = "-"
        return True


def logging_config(level: str) -> dict[str, Any]:
    # Two levels deep (streams in handlers cannot be deep-copied).
    config: dict[str, Any] = {
        key: {name: dict(entry) for name, entry in value.items()}
        if isinstance(value, dict)
        else value
        for key, value in LOGGING_CONFIG_DEFAULTS.items()
    }
    config["filters"] = {"request_id": {"()": RequestIdFilter}}
    config["formatters"]["onramp"] = {
        "format": "%(asctime)s %(levelname)s [%(process)d] %(name)s "
        "request_id=%(request_id)s %(message)s",
    }
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
    return config
