"""/metrics access modes, structured request logs, and no secrets in any log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest

from app.observability.logging.formatter import JsonFormatter
from app.observability.logging.request_id import RequestIdFilter
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here


def test_metrics_count_requests_by_route_template(api: ApiClient) -> None:
    token = signup(api)["access_token"]
    vendor = create_vendor(api, token)
    for _ in range(3):
        api.get(f"/api/v1/vendors/{vendor['id']}", token=token)
    text = api.get("/metrics").text
    assert 'route="/api/v1/vendors/<vendor_id:uuid>",status="200"' in text
    assert vendor["id"] not in text  # templates, never raw paths
    assert "onramp_http_request_duration_seconds_bucket" in text
    assert 'onramp_outbox_emails{state="queued"}' in text
    assert "onramp_worker_rss_bytes" in text
    assert 'onramp_background_tasks_alive{name="mail.dispatcher"} 1.0' in text


def test_metrics_off_is_404(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(METRICS_MODE="off"))) as api:
        assert api.get("/metrics").status_code == 404


def test_metrics_token_mode(settings: Settings) -> None:
    secret = "metrics-token-0123456789"
    with ApiClient(make_app(settings.replace(METRICS_MODE="token", METRICS_TOKEN=secret))) as api:
        assert api.get("/metrics").status_code == 401
        assert api.get("/metrics", token="wrong-token-0123456789").status_code == 401
        assert api.get("/metrics", token=secret).status_code == 200


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def capturing() -> Iterator[Capture]:
    """Attach after the app exists: building it reconfigures logging (dictConfig),
    which strips handlers from the `onramp.*` loggers."""
    handler = Capture()
    # The server's loggers (the test client's own httpx/httpcore debug lines are not ours).
    names = [
        "onramp",
        "onramp.access",
        "onramp.errors",
        "sanic.root",
        "sanic.error",
        "sanic.access",
        "sanic.server",
        "tortoise",
        "tortoise.db_client",
        "asyncpg",
        "aiosqlite",
    ]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_request_lines_are_structured_and_carry_no_secrets(settings: Settings) -> None:
    app = make_app(settings.replace(REQUEST_LOG=True, LOG_LEVEL="DEBUG", ACCESS_LOG=True))
    with capturing() as captured, ApiClient(app) as api:
        body = signup(api, email="logs@example.com")
        token = body["access_token"]
        api.post("/api/v1/auth/login", json={"email": "logs@example.com", "password": PASSWORD})
        create_vendor(api, token)
        api.get("/api/v1/vendors", token=token, headers={"X-Request-ID": "trace-me-1"})
        api.get("/api/v1/me", token="bogus.token.value")
    everything = "\n".join(captured.lines)
    assert token not in everything
    assert "Bearer" not in everything
    assert PASSWORD not in everything
    assert "bogus.token.value" not in everything
    requests = [orjson.loads(line) for line in captured.lines if '"onramp.access"' in line]
    listed = next(r for r in requests if r["request_id"] == "trace-me-1")
    assert listed["method"] == "GET"
    assert listed["route"] == "/api/v1/vendors"
    assert listed["status"] == 200
    assert isinstance(listed["duration_ms"], float)
    assert {"time", "level", "worker"} <= set(listed)


def test_error_lines_carry_the_request_id(settings: Settings) -> None:
    app = make_app(settings.replace(BLUEPRINTS=(*settings.BLUEPRINTS, "tests.support.sample_bp")))
    with capturing() as captured, ApiClient(app) as api:
        response = api.get("/_sample/boom", headers={"X-Request-ID": "boom-42"})
    assert response.status_code == 500
    errors = [orjson.loads(line) for line in captured.lines if '"onramp.errors"' in line]
    assert errors[0]["request_id"] == "boom-42"
    exception = errors[0]["exception"]
    assert exception["type"] == "RuntimeError"
    assert exception["frames"][-1]["file"].endswith("tests/support/sample_bp.py")


def probe_count(metrics: str, route: str) -> float:
    """Requests counted for `route` (metrics are per process: other tests' too)."""
    found = re.findall(
        rf'onramp_http_requests_total{{[^}}]*route="{route}"[^}}]*}} ([0-9.]+)', metrics
    )
    return sum(float(value) for value in found)


def test_probes_are_neither_logged_nor_counted_unless_asked(settings: Settings) -> None:
    def seen(log_probes: bool) -> tuple[list[str], dict[str, float]]:
        app = make_app(
            settings.replace(REQUEST_LOG=True, METRICS_MODE="public", LOG_PROBES=log_probes)
        )
        with capturing() as captured, ApiClient(app) as api:
            before = api.get("/metrics").text
            for path in ("/health", "/ready", "/health"):
                assert api.get(path).status_code == 200
            api.get("/api/v1/me")  # 401: an ordinary request, logged either way
            after = api.get("/metrics").text
        routes = [
            orjson.loads(line)["route"] for line in captured.lines if '"onramp.access"' in line
        ]
        counted = {
            route: probe_count(after, route) - probe_count(before, route)
            for route in ("/health", "/ready", "/api/v1/me")
        }
        return routes, counted

    routes, counted = seen(log_probes=False)
    assert "/api/v1/me" in routes
    assert "/health" not in routes
    assert "/ready" not in routes
    assert counted == {"/health": 0, "/ready": 0, "/api/v1/me": 1}

    routes, counted = seen(log_probes=True)
    assert "/health" in routes
    assert "/ready" in routes
    assert counted == {"/health": 2, "/ready": 1, "/api/v1/me": 1}
