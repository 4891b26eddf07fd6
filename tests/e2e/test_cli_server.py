"""The real `sanic server:app --workers 2`: serve, then stop on SIGTERM leaking nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import WITHOUT_DOCS, ServerProcess, leak_markers_in

GRACEFUL_TIMEOUT = 15.0


async def _many_health_checks(url: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        responses = await asyncio.gather(*(client.get(f"{url}/health") for _ in range(count)))
    return [response.status_code for response in responses]


def test_two_workers_serve_then_stop_cleanly(e2e_database_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "job-cleanup.txt"
    env = {
        "APP_ENV": "testing",
        **WITHOUT_DOCS,
        "DATABASE_URL": e2e_database_url,
        "MIGRATE_ON_START": "true",
        "LOG_LEVEL": "INFO",
        "BLUEPRINTS": "blueprints.health,tests.support.job_bp",
        "ONRAMP_TEST_JOB_MARKER": str(marker),
        "GRACEFUL_SHUTDOWN_TIMEOUT": str(GRACEFUL_TIMEOUT),
    }
    with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        assert server.client.get("/ready", timeout=5).json() == {"status": "ready"}
        statuses = databases.run(_many_health_checks(server.url, 200))
        assert statuses == [200] * 200
        code, seconds = server.stop()
        output = server.output()

    assert code == 0, output
    assert seconds < GRACEFUL_TIMEOUT, output
    assert leak_markers_in(output) == [], output
    reports = re.findall(r"shutdown report: worker=\S+ pid=\d+ .*", output)
    assert len(reports) == 2, output
    for report in reports:
        # dispatcher, expiry, housekeeping, audit retention, metrics sampler and flusher,
        # the test's job
        assert "jobs_drained=7 jobs_cancelled=0 jobs_failed=0 executors_closed=1" in report
    # The job awaited its cleanup after the stop signal, in both workers.
    assert len(marker.read_text().splitlines()) == 2
    if e2e_database_url.startswith("postgres"):
        assert databases.count_connections(e2e_database_url) == 0


@pytest.mark.any_backend  # a race of Sanic's processes, not of the database
def test_a_stop_sent_while_workers_start_ends_the_server(
    e2e_database_url: str, tmp_path: Path
) -> None:
    """SIGTERM as soon as the first worker answers, as a deploy tool or `systemctl stop`
    may send it: the server stops and leaves no worker behind. Without
    `app/compat/manager_stop_at_start.py` the main process spun forever. Most such stops
    take 1-2 s; about 1 in 40 here a worker does not act on the stop, Sanic's main
    process waits its own 10 s for it, and it stops when the main process ends
    (docs/upstream/sanic-stop-during-worker-start.md), hence the bound. Both races are
    reproduced on every run by `tests/test_compat_manager_stop_at_start.py` and
    `tests/test_compat_worker_stop_at_start.py`; these three real starts show that the
    CLI server, with the workarounds in place, ends."""
    env = {
        "APP_ENV": "testing",
        **WITHOUT_DOCS,
        "DATABASE_URL": e2e_database_url,
        "MIGRATE_ON_START": "true",
        "BLUEPRINTS": "blueprints.health",
    }
    for attempt in range(3):
        with ServerProcess(env, workers=2, log_path=tmp_path / f"server-{attempt}.log") as server:
            server.wait_first_200()
            started = server.worker_processes()
            code, seconds = server.stop(timeout=20)
            assert code == 0, server.output()
            assert seconds < 25, (attempt, seconds)
            left = [p.pid for p in started if p.is_running() and p.status() != "zombie"]
            assert left == [], server.output()
