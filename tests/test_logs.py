"""The request log's fast path, buffered log writing, and made-up request ids."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from datetime import datetime

import orjson

from app.http import request_id as request_ids
from app.observability.logging.buffered import BufferedStreamHandler, log_flusher_job
from app.observability.logging.formatter import JsonFormatter
from app.observability.logging.request_id import RequestIdFilter
from app.observability.logging.request_log import RequestLog


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    parent = logging.getLogger(name)
    parent.handlers = [handler]
    parent.propagate = False
    parent.setLevel(logging.INFO)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return logging.getLogger(f"{name}.access")


def test_direct_request_line_is_the_line_logging_would_write() -> None:
    direct_stream, standard_stream = io.StringIO(), io.StringIO()
    direct = RequestLog(_logger("test_direct", BufferedStreamHandler(direct_stream)))
    # A handler that is not ours: the line goes through Logger.info and the formatter.
    standard = RequestLog(_logger("test_standard", logging.StreamHandler(standard_stream)))

    direct.write("rid-1", "GET", "/api/v1/vendors", 200, 12.34)
    standard.write("rid-1", "GET", "/api/v1/vendors", 200, 12.34)

    fast = orjson.loads(direct_stream.getvalue())
    slow = orjson.loads(standard_stream.getvalue())
    for line in (fast, slow):
        assert datetime.fromisoformat(line.pop("time")).tzinfo is not None
        line.pop("logger")
    assert fast == slow
    assert fast["message"] == "GET /api/v1/vendors 200 12.3ms"
    assert (fast["request_id"], fast["route"], fast["status"]) == ("rid-1", "/api/v1/vendors", 200)


def test_request_lines_respect_the_level() -> None:
    stream = io.StringIO()
    logger = _logger("test_quiet", BufferedStreamHandler(stream))
    logger.parent.setLevel(logging.WARNING)  # type: ignore[union-attr]
    RequestLog(logger).write("rid", "GET", "/health", 200, 0.1)
    assert stream.getvalue() == ""


def test_buffered_handler_holds_info_lines_and_keeps_their_order() -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream)
    logger = _logger("test_buffered", handler).parent
    assert logger is not None
    handler.set_limit(10_000)
    try:
        logger.info("first")
        logger.info("second")
        assert stream.getvalue() == ""
        logger.warning("trouble")  # written at once, after what was waiting
        messages = [orjson.loads(line)["message"] for line in stream.getvalue().splitlines()]
        assert messages == ["first", "second", "trouble"]
        handler.set_limit(200)  # a small buffer fills and is written by itself
        for n in range(5):
            logger.info("line %d", n)
        assert "line 0" in stream.getvalue()
    finally:
        handler.set_limit(0)
    assert "line 4" in stream.getvalue()


def test_lines_are_buffered_only_while_the_flusher_runs() -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream)
    logger = _logger("test_flusher", handler).parent
    assert logger is not None

    async def scenario() -> list[str]:
        seen = []
        stop = asyncio.Event()
        job = asyncio.create_task(log_flusher_job(65_536, 3600)(stop))
        await asyncio.sleep(0)  # the job turns buffering on
        logger.info("held")
        seen.append(stream.getvalue())
        stop.set()
        await job  # turns buffering off, writing what was held
        seen.append(stream.getvalue())
        logger.info("direct")
        seen.append(stream.getvalue())
        return seen

    while_running, after_stop, later = asyncio.run(scenario())
    assert while_running == ""
    assert '"held"' in after_stop
    assert '"direct"' in later
    assert handler.limit == 0


def test_made_up_request_ids_are_unique_hex_and_change_prefix_in_a_forked_child() -> None:
    source = request_ids._IdSource()
    ids = {source.next_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    prefix = source.prefix
    source.reseed()  # what os.register_at_fork runs in a child
    assert source.prefix != prefix


def test_line_times_read_like_isoformat_in_milliseconds() -> None:
    from datetime import UTC
    from random import Random

    from app.observability.logging.formatter import utc_millis as _utc_millis

    fixed = [0.0, 1_795_935_132.0, 1_795_935_132.2275, 1_795_935_132.9999996, 1_795_935_133.5]
    random = Random(6)  # seeded: the same instants on every run
    for created in fixed + [random.uniform(0, 4e9) for _ in range(20_000)]:
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert _utc_millis(created) == expected


class DropHealth(logging.Filter):
    """What an operator might add: keep the probe's lines out of the log."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.seen.append(record.getMessage())
        return getattr(record, "route", "") != "/health"


def test_request_lines_go_through_filters_an_operator_added() -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream)
    logger = _logger("test_filtered", handler)
    operator_filter = DropHealth()
    handler.addFilter(operator_filter)
    log = RequestLog(logger)
    log.write("rid-1", "GET", "/health", 200, 0.1)
    log.write("rid-2", "GET", "/api/v1/vendors", 200, 3.0)
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["route"] for line in lines] == ["/api/v1/vendors"]
    assert len(operator_filter.seen) == 2  # the filter saw every line


def test_a_filter_on_a_logger_on_the_way_also_sees_request_lines() -> None:
    stream = io.StringIO()
    logger = _logger("test_logger_filter", BufferedStreamHandler(stream))
    operator_filter = DropHealth()
    logger.addFilter(operator_filter)
    RequestLog(logger).write("rid-1", "GET", "/health", 200, 0.1)
    assert stream.getvalue() == ""
    assert operator_filter.seen == ["GET /health 200 0.1ms"]
