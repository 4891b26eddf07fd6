"""The logging configuration: Sanic's defaults plus our loggers, formatter and handler."""

from __future__ import annotations

import logging
import sys
from typing import Any

from app.compat import tracerite_json_logs
from app.observability.logging.formatter import JsonFormatter
from app.observability.logging.redaction import RedactTokensFilter
from app.observability.logging.request_id import RequestIdFilter

_FIND_CALLERS = logging._srcfile


def set_record_fields(log_format: str, *, plain_exceptions: bool = True) -> None:
    """What each log record collects, from what the format prints.

    The JSON lines print neither thread nor process names nor the caller's source line,
    and take the pid from `current_pid`: the logging HOWTO's "Optimization" switches save
    a stack walk and a `getpid` system call per record. Text lines keep everything.
    The source-line switch is `logging._srcfile`, which the HOWTO documents for exactly
    this (https://docs.python.org/3/howto/logging.html#optimization).
    """
    full = log_format != "json"
    logging.logThreads = full
    logging.logProcesses = full
    logging.logMultiprocessing = full
    logging._srcfile = _FIND_CALLERS if full else None
    if plain_exceptions:
        tracerite_json_logs.apply(pretty=full)
    # Warnings raised while serving become log records (JSON lines in production).
    logging.captureWarnings(not full)


def logging_config(level: str, log_format: str = "text") -> dict[str, Any]:
    from sanic.log import LOGGING_CONFIG_DEFAULTS

    # Two levels deep (streams in handlers cannot be deep-copied).
    config: dict[str, Any] = {
        key: {name: dict(entry) for name, entry in value.items()}
        if isinstance(value, dict)
        else value
        for key, value in LOGGING_CONFIG_DEFAULTS.items()
    }
    config["filters"] = {
        "request_id": {"()": RequestIdFilter},
        "redact_tokens": {"()": RedactTokensFilter},
    }
    config["formatters"]["onramp"] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {
            "format": "%(asctime)s %(levelname)s [%(process)d] %(name)s "
            "request_id=%(request_id)s %(message)s",
        }
    )
    config["handlers"]["onramp_console"] = {
        "class": "app.observability.logging.buffered.BufferedStreamHandler",
        "formatter": "onramp",
        "filters": ["request_id"],
        "stream": sys.stderr,
    }
    config["loggers"]["onramp"] = {
        "level": level,
        "handlers": ["onramp_console"],
        "propagate": False,
    }
    # Sanic's access and error lines may hold a URL, and a URL may hold a token.
    for name in ("sanic.access", "sanic.error"):
        config["loggers"][name]["filters"] = ["redact_tokens"]
    config["loggers"]["py.warnings"] = {
        "level": "WARNING",
        "handlers": ["onramp_console"],
        "propagate": False,
    }
    if log_format == "json":  # Sanic's own lines too, so one parser reads everything
        for handler in ("console", "error_console", "access_console"):
            config["handlers"][handler]["formatter"] = "onramp"
            config["handlers"][handler]["filters"] = ["request_id"]
    return config
