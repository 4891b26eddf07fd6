"""The one line per request, written without the logging machinery when nothing is lost.

Through `Logger.info` (a LogRecord, filters, locks, a Formatter), or built as a dict and
encoded per request, the line costs more than the rest of a read does (bench/README.md).
Most of a line is the same for every request of one (method, route, status):
that text is made once (`prepare`), JSON-escaped by the same encoder as every other
line. A request then hands the buffered handler its values (`write_prepared`), and the
line's text is made when the batch is written: one f-string per line in a loop that
stays warm, instead of one per request, where the code is cold in the CPU's caches.

The line goes to our handlers directly only when every handler that would get it is
ours, writes JSON, and no logger or handler on the way has a filter other than our
request-id filter (text format, handlers or filters an operator added: through
`Logger.info`, so every filter sees it). That check, and the level, are made again
whenever the second changes, so a change to the logging setup applies within a second.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson

from app.http.request_id import is_sane
from app.observability.logging.buffered import BufferedStreamHandler, Deferred
from app.observability.logging.formatter import JsonFormatter, utc_millis, worker_name
from app.observability.logging.request_id import RequestIdFilter
from app.runtime.process import current_pid


def _escaped(text: str) -> str:
    """`text` as it reads inside a JSON string."""
    return orjson.dumps(text).decode()[1:-1]


@dataclass(frozen=True, slots=True)
class PreparedLine:
    """The fixed text of the lines of one (method, route, status)."""

    method: str
    route: str
    status: int
    head: str
    """From the end of the time to the duration in the message."""
    tail: str
    """From the end of the request id to the duration field's value."""
    size: int
    """About how long a whole line is (the handler's buffer limit counts characters)."""


_VARIABLE_SIZE = 80
"""Time, request id and two durations, roughly."""

_last_millisecond: tuple[int, str] = (-1, "")


def _time_text(now_ns: int) -> str:
    """`utc_millis` of a time in nanoseconds, made once per millisecond."""
    global _last_millisecond
    millisecond = now_ns // 1_000_000
    cached, text = _last_millisecond
    if millisecond != cached:
        text = utc_millis(millisecond / 1000)
        _last_millisecond = (millisecond, text)
    return text


def _line_text(held: Deferred) -> str:
    """The text of a line `write_prepared` held."""
    _, _, line, request_id, now_ns, duration_ms = held
    return (
        f'{{"time":"{_time_text(now_ns)}{line.head}{duration_ms:.1f}ms",'
        f'"request_id":"{request_id}{line.tail}{duration_ms!r}}}'
    )


class RequestLog:
    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._look_again_at = 0
        """When (time_ns) the handlers and the level are looked at again."""
        self._handlers: list[BufferedStreamHandler] | None = None
        self._enabled = False

    def prepare(self, method: str, route: str, status: int) -> PreparedLine:
        """The fixed text of `method route status` lines, in `JsonFormatter`'s field order."""
        message = _escaped(f"{method} {route} {status} ")
        head = f'","level":"INFO","logger":"{_escaped(self._logger.name)}","message":"{message}'
        tail = (
            f'","worker":"{_escaped(worker_name())}","pid":{current_pid()},'
            f'"method":"{_escaped(method)}","route":"{_escaped(route)}","status":{status},'
            '"duration_ms":'
        )
        return PreparedLine(
            method, route, status, head, tail, len(head) + len(tail) + _VARIABLE_SIZE
        )

    def write(
        self, request_id: str, method: str, route: str, status: int, duration_ms: float
    ) -> None:
        """One line (for callers without a prepared line)."""
        line = self.prepare(method, route, status)
        if is_sane(request_id):
            self.write_prepared(line, request_id, duration_ms)
        else:  # the formatter escapes it
            self._log_record(line, request_id, duration_ms)

    def write_prepared(self, line: PreparedLine, request_id: str, duration_ms: float) -> None:
        """A request's line. `request_id` must need no JSON escaping (`is_sane`), as every
        id `app.http.request_id` hands out does; `duration_ms` is rounded by the caller."""
        now = time.time_ns()
        if now >= self._look_again_at:
            self._look_again(now)
        if not self._enabled:
            return
        handlers = self._handlers
        if handlers is None:
            self._log_record(line, request_id, duration_ms)
            return
        held = (_line_text, line.size, line, request_id, now, duration_ms)
        for handler in handlers:
            handler.write_deferred(held)

    def _look_again(self, now_ns: int) -> None:
        self._look_again_at = (now_ns // 1_000_000_000 + 1) * 1_000_000_000
        logger = self._logger
        self._enabled = logger.isEnabledFor(logging.INFO)
        self._handlers = direct_handlers(logger)

    def _log_record(self, line: PreparedLine, request_id: str, duration_ms: float) -> None:
        self._logger.info(
            f"{line.method} {line.route} {line.status} {duration_ms:.1f}ms",
            extra={
                "request_id": request_id,
                "method": line.method,
                "route": line.route,
                "status": line.status,
                "duration_ms": duration_ms,
            },
        )


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
