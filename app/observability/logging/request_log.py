"""The one line per request, written without the logging machinery when nothing is lost.

Through `Logger.info` (a LogRecord, filters, locks, a Formatter) the line cost about
20 µs per request here, as much as the rest of a `/health` request. When every handler
that would get the line is ours, writes JSON, and no logger or handler on the way has a
filter other than our request-id filter, the line is built here in the same shape
`JsonFormatter` gives it and handed to those handlers directly. Otherwise (text format,
handlers or filters an operator added) it goes through `Logger.info`, so every filter
sees it.
"""

from __future__ import annotations

import logging
import time

import orjson

from app.observability.logging.buffered import BufferedStreamHandler
from app.observability.logging.formatter import JsonFormatter, json_payload
from app.observability.logging.request_id import RequestIdFilter


class RequestLog:
    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def write(
        self, request_id: str, method: str, route: str, status: int, duration_ms: float
    ) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        message = f"{method} {route} {status} {duration_ms:.1f}ms"
        handlers = direct_handlers(logger)
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


def _only_our_filter(filterer: logging.Filterer) -> bool:
    return all(isinstance(f, RequestIdFilter) for f in filterer.filters)


def direct_handlers(logger: logging.Logger) -> list[BufferedStreamHandler] | None:
    """The handlers `logger` would call for an INFO record, if a pre-built JSON line may
    go to them unchanged; None when anything on the way could act on the record."""
    found: list[BufferedStreamHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if not (
                isinstance(handler, BufferedStreamHandler)
                and isinstance(handler.formatter, JsonFormatter)
                and handler.level <= logging.INFO
                and _only_our_filter(handler)
            ):
                return None
            found.append(handler)
        current = current.parent if current.propagate else None
    return found
