"""What an operator's log pipeline reads: the real CLI in the production profile, two
workers, requests that fail with exceptions and clients that leave early. Every line of
the output must parse as one JSON object; exceptions are a structured field; a client
that went away is a 499 at info level, not a 500."""

from __future__ import annotations

import contextlib
import secrets
import signal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.settings import ALL_BLUEPRINTS
from tests.support.server import ServerProcess

pytestmark = pytest.mark.any_backend  # the database is incidental here


def test_production_logs_are_one_json_object_per_line(
    e2e_database_url: str, tmp_path: Path
) -> None:
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": e2e_database_url,
        "MIGRATE_ON_START": "true",
        "BLUEPRINTS": ",".join((*ALL_BLUEPRINTS, "tests.support.sample_bp")),
        "PUBLIC_BASE_URL": "https://onramp.example.com",
        "PYTHONWARNINGS": "",  # Python's default filters, as operators run it
    }
    with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for n in range(6):
                failed = client.get("/_sample/boom", headers={"X-Request-ID": f"boom-{n}"})
                assert failed.status_code == 500
                assert "Traceback" not in failed.text  # production: no traceback
            assert client.get("/health").status_code == 200
        for n in range(2):  # clients that give up before the answer
            with contextlib.suppress(httpx.TimeoutException):
                httpx.get(
                    f"{server.url}/_sample/slow", headers={"X-Request-ID": f"gone-{n}"}, timeout=0.3
                )
        assert server.stop(signal.SIGTERM)[0] == 0, server.output()
        output = server.output()

    lines = [line for line in output.splitlines() if line.strip()]
    records: list[dict[str, Any]] = []
    for line in lines:
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    errors = [r for r in records if r["logger"] == "onramp.errors"]
    assert len(errors) == 6, errors
    for record in errors:
        assert record["level"] == "ERROR"
        assert record["exception"]["type"] == "RuntimeError"
        assert record["exception"]["message"] == "deliberate failure with secret detail"
        assert record["exception"]["frames"][-1]["function"] == "boom"
    gone = [r for r in records if str(r.get("request_id", "")).startswith("gone-")]
    assert gone, "the early leavers were not logged"
    assert all(r["level"] == "INFO" and r.get("status") == 499 for r in gone), gone
    assert not any(r["level"] == "ERROR" for r in gone)
    assert any("shutdown report" in r["message"] for r in records)
