"""What each workaround in `app/compat` works around, shown on the library alone.

Each test here passes while the pinned library still behaves as its report in
`docs/upstream/` says, and fails the day an upgrade fixes it: then the workaround (and
its test) can go. Where the demonstration needs the workaround's own test bench, it
lives beside that bench (each `WORKAROUND.shown_by` names its test;
`tests/test_compat.py` checks that it exists).
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import subprocess
import sys

import pytest
from sanic import Sanic
from sanic.response import text

from app.compat import sanic_ext_no_content

pytestmark = pytest.mark.any_backend  # no database here


def test_sanic_ext_publishes_a_response_without_content_with_a_body() -> None:
    """sanic_ext_no_content: `Response.make(None, ...)` still wraps "no content" as
    `*/*` content."""
    made = sanic_ext_no_content._original_make(None, "No content")
    assert "*/*" in (made.fields.get("content") or {})


def test_prometheus_histograms_take_one_observation_at_a_time() -> None:
    """prometheus_bulk: `observe` takes one amount, and there is no bulk method."""
    from prometheus_client import Histogram

    parameters = list(inspect.signature(Histogram.observe).parameters)
    assert parameters == ["self", "amount", "exemplar"]
    assert not [name for name in dir(Histogram) if "observe" in name and name != "observe"]


def test_the_sanic_cli_replaces_every_stream_handlers_emit() -> None:
    """tracerite_json_logs: importing the CLI (as `sanic server:app` does) patches
    `logging.StreamHandler.emit` for the whole process."""
    probe = (
        "import logging; before = logging.StreamHandler.emit; import sanic.__main__; "
        "print(logging.StreamHandler.emit is before)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False", result


def test_sanic_answers_a_request_head_over_its_limit_with_413() -> None:
    """request_limits: a request line and headers over 16 KiB get `413 Content Too
    Large`, which is about bodies (nginx answers 400)."""

    async def scenario() -> bytes:
        app = Sanic(f"head-{secrets.token_hex(4)}")
        app.config.AUTO_EXTEND = False
        app.get("/hello")(lambda request: text("hello"))
        server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        await server.start_serving()
        port = server.server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            huge = b"X-Filler: " + b"a" * 20_000 + b"\r\n"
            writer.write(b"GET /hello HTTP/1.1\r\nHost: test\r\n" + huge + b"\r\n")
            await writer.drain()
            return await asyncio.wait_for(reader.readline(), timeout=5)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()
            Sanic.unregister_app(app)

    assert asyncio.run(scenario()).startswith(b"HTTP/1.1 413")
