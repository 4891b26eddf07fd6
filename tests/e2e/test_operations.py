"""Operating the real CLI server: production profile, metrics across workers,
zero-downtime reload under load, and dev auto-reload without leaks."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from sanic.worker.reloader import Reloader

from app.lifecycle.reloader import RELOADING
from tests.support import databases
from tests.support.load import LoadResult, run_load
from tests.support.net import free_port
from tests.support.server import ROOT, SANIC, ServerProcess, leak_markers_in, until
from tests.support.tools import tool_env

STRONG_SECRET = "kX9f2-Lq8mZr4Tn7Wb1Yc6Hd3Jp0Vs5Ge_A-" + secrets.token_hex(8)
needs_postgres = pytest.mark.backends("postgres")  # counts PostgreSQL sessions


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG_SECRET,
        "DATABASE_URL": database_url,
        "OUTBOX_DIR": str(Path(database_url.rsplit("/", 1)[-1])),
        **extra,
    }


def test_production_refuses_a_weak_secret_key(tmp_path: Path) -> None:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "changeme"}
    result = subprocess.run(
        [str(SANIC), "server:app", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.any_backend  # settings of the HTTP layer
def test_docs_are_off_in_production_and_on_in_development(
    e2e_database_url: str, tmp_path: Path
) -> None:
    prod = production_env(e2e_database_url)
    migrate(prod)
    with ServerProcess(prod, workers=1, log_path=tmp_path / "prod.log") as server:
        server.wait_ready()
        assert server.client.get("/docs", timeout=5).status_code == 404
        assert server.client.get("/docs/openapi.json", timeout=5).status_code == 404
        server.stop()
    dev = {"APP_ENV": "development", "DATABASE_URL": e2e_database_url}
    with ServerProcess(dev, workers=1, log_path=tmp_path / "dev.log") as server:
        server.wait_ready()
        assert server.client.get("/docs/openapi.json", timeout=5).status_code == 200
        server.stop()


def metrics(server: ServerProcess) -> str:
    return server.client.get("/metrics", timeout=5).text


def probes_logged(output: str) -> int:
    """Requests to /health in the structured request lines so far (at least one)."""
    routes = (orjson.loads(line).get("route") for line in output.splitlines() if line[:1] == "{")
    return max(1, sum(1 for route in routes if route == "/health"))


def health_count(exposition: str) -> float:
    found = re.search(
        r'onramp_http_requests_total\{method="GET",route="/health",status="200"\} ([0-9.e+]+)',
        exposition,
    )
    assert found, exposition
    return float(found.group(1))


@pytest.mark.any_backend  # request counts of the HTTP layer
def test_metrics_add_up_across_two_workers(e2e_database_url: str, tmp_path: Path) -> None:
    # The load is on /health, which is counted and logged only with LOG_PROBES.
    # Each worker writes its request counts every METRICS_FLUSH_INTERVAL.
    flush = 0.2
    env = production_env(
        e2e_database_url,
        METRICS_MODE="public",
        LOG_PROBES="true",
        METRICS_FLUSH_INTERVAL=str(flush),
    )
    migrate(env)
    requests = 300
    with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        # wait_ready's own probes of /health are logged (LOG_PROBES) and counted at their
        # worker's next flush: the count to start from is that of the probes logged.
        deadline = time.monotonic() + 10
        while (before := health_count(metrics(server))) != probes_logged(server.output()):
            assert time.monotonic() < deadline, (before, server.output())
            time.sleep(flush / 2)
        result = databases.run(
            run_load(f"{server.url}/health", clients=8, seconds=60, max_requests=requests)
        )
        assert result.statuses[200] == requests
        # A scrape answered by one worker sees the other's counts at its next flush.
        deadline = time.monotonic() + 10 * flush
        while True:
            text = metrics(server)
            if health_count(text) - before >= requests or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        code, _ = server.stop()
        output = server.output()
    assert code == 0
    assert health_count(text) - before == requests  # wait_ready's own checks came before
    assert len(re.findall(r"^onramp_worker_rss_bytes\{pid=", text, re.M)) == 2
    assert 'onramp_outbox_emails{state="queued"} 0.0' in text
    assert 'onramp_background_tasks_alive{name="mail.dispatcher"} 2.0' in text
    # Both workers served: the structured request lines name two processes.
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    served = {line["pid"] for line in lines if line.get("route") == "/health"}
    assert len(served) == 2
    request_line = next(line for line in lines if line.get("route") == "/health")
    assert {
        "time",
        "level",
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "worker",
    } <= set(request_line)


def live_pids(pids: list[int]) -> list[int]:
    """PIDs still running (the worker manager leaves replaced workers as zombies)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def worker_pids(output: str) -> list[int]:
    """HTTP workers only (the Inspector runs as a worker process too)."""
    return [
        int(pid)
        for line in output.splitlines()
        if not line.startswith("Inspector")
        for pid in re.findall(r"Starting worker \[(\d+)\]", line)
    ]


@needs_postgres
def test_zero_downtime_reload_under_load(e2e_database_url: str, tmp_path: Path) -> None:
    app_name = f"onramp-reload-{secrets.token_hex(3)}"
    inspector_port = free_port()
    env = production_env(
        e2e_database_url,
        DB_APPLICATION_NAME=app_name,
        DB_POOL_MAX="2",
        SANIC_INSPECTOR="true",
        SANIC_INSPECTOR_HOST="127.0.0.1",
        SANIC_INSPECTOR_PORT=str(inspector_port),
        SANIC_INSPECTOR_API_KEY="inspector-key-" + secrets.token_hex(8),
    )
    migrate(env)
    with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        databases.run(run_load(f"{server.url}/ready", clients=4, seconds=1.0))  # open pools
        before = databases.count_connections(e2e_database_url, app_name)
        old_workers = worker_pids(server.output())
        result, stop_load = LoadResult(), threading.Event()
        load = threading.Thread(
            target=lambda: databases.run(
                run_load(
                    f"{server.url}/ready", clients=8, seconds=60, result=result, stop=stop_load
                )
            )
        )
        load.start()
        until(lambda: result.answered >= 100, "the load never got going", server)
        reload = subprocess.run(
            [
                str(SANIC),
                "inspect",
                "reload",
                "--zero-downtime",
                "--port",
                str(inspector_port),
                "--api-key",
                env["SANIC_INSPECTOR_API_KEY"],
            ],
            cwd=ROOT,
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert reload.returncode == 0, reload.stdout + reload.stderr
        # Old workers finish their in-flight requests, then exit; the load goes on until
        # the new ones have answered some of it too.
        until(lambda: not live_pids(old_workers), "the old workers lived on", server)
        at_switch = result.answered
        until(lambda: result.answered >= at_switch + 100, "the new workers never answered", server)
        stop_load.set()
        load.join(timeout=60)
        still_alive = live_pids(old_workers)
        after = databases.count_connections(e2e_database_url, app_name)
        new_workers = [pid for pid in worker_pids(server.output()) if pid not in old_workers]
        code, _ = server.stop()
        output = server.output()

    # The figures for the record (run with -s to see them).
    print(  # noqa: T201
        f"reload under load: sent={result.sent} failed={result.failed} "
        f"connections before={before} after={after}"
    )
    assert result.sent >= 200
    assert result.failed == 0, (result.statuses, result.errors)
    assert len(new_workers) == 2, output
    assert still_alive == [], output
    assert before == after == 4, (before, after)
    assert code == 0
    assert leak_markers_in(output) == [], output
    assert databases.count_connections(e2e_database_url, app_name) == 0


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("app", "blueprints", "conf", "server.py"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    return copy


def answers(server: ServerProcess, revision: int) -> bool:
    try:
        return bool(server.client.get("/health", timeout=1).json().get("revision") == revision)
    except httpx.HTTPError:
        return False


def reload_with(server: ServerProcess, path: Path, body: str, revision: int) -> None:
    """Save `body` to `path`; return once the reloader has restarted the worker for it and
    the new worker answers `revision` on /health.

    The reloader's first scan, right after its "watching" line, takes each file's
    modification time as its baseline: an edit saved before that scan reloads nothing.
    So an edit the reloader has not logged a restart for after five of its scans is saved
    again (a newer time); once it has logged one, never. A worker is replaced by stopping
    it first, then starting the next: answered means as many "Worker ready" lines as
    restarts plus the first, so no restart is still on its way."""
    deadline = time.monotonic() + 30
    restarts = server.output().count(RELOADING)
    path.write_text(body)
    saved = time.monotonic()
    while server.output().count(RELOADING) == restarts:
        assert time.monotonic() < deadline, f"the reloader never took the edit:\n{server.output()}"
        if time.monotonic() - saved > 5 * Reloader.INTERVAL:
            path.write_text(body)
            saved = time.monotonic()
        time.sleep(0.1)

    def served() -> bool:
        output = server.output()
        return output.count("Worker ready") == 1 + output.count(RELOADING) and answers(
            server, revision
        )

    until(served, f"revision {revision} never answered", server)


def sessions_held_elsewhere(server: ServerProcess, url: str, application_name: str) -> list[int]:
    """The client ports of the server's database sessions that no live worker holds: a
    replaced worker's, or the main process's or the reloader's. The database is read
    first, so a session opened meanwhile is already among the worker's sockets."""
    ports = databases.client_ports(url, application_name)
    held: set[int] = set()
    for worker in server.worker_processes():
        with contextlib.suppress(psutil.NoSuchProcess):
            held.update(socket.laddr.port for socket in worker.net_connections("tcp"))
    return [port for port in ports if port not in held]


def service_processes(root_pid: int) -> int:
    try:
        process = psutil.Process(root_pid)
        children = process.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    return 1 + sum(1 for child in children if child.status() != psutil.STATUS_ZOMBIE)


@needs_postgres
def test_dev_auto_reload_does_not_leak(
    e2e_database_url: str, project_copy: Path, tmp_path: Path
) -> None:
    app_name = f"onramp-dev-{secrets.token_hex(3)}"
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": e2e_database_url,
        "DB_APPLICATION_NAME": app_name,
        # At most two sessions per worker (its requests and background jobs share them).
        "DB_POOL_MAX": "2",
        "PYTHONPATH": str(project_copy),
    }
    health = project_copy / "blueprints" / "health.py"
    original = health.read_text()
    assert '{"status":"ok"}' in original  # the body the edits below change
    samples: list[tuple[int, int]] = []
    with ServerProcess(
        env, workers=0, extra_args=("--dev",), log_path=tmp_path / "dev.log", cwd=project_copy
    ) as server:
        server.wait_ready()
        until(
            lambda: "auto-reload: watching for changes" in server.output(),
            "the reloader never started",
            server,
        )

        for revision in range(1, 4):
            replaced = [worker.pid for worker in server.worker_processes()]
            body = original.replace('{"status":"ok"}', f'{{"status":"ok","revision":{revision}}}')
            reload_with(server, health, body, revision)
            assert server.client.get("/ready", timeout=5).status_code == 200
            until(lambda: not live_pids(replaced), "the replaced worker lived on", server)  # noqa: B023
            until(
                lambda: not sessions_held_elsewhere(server, e2e_database_url, app_name),
                "a database session outlived the worker that opened it",
                server,
                timeout=10,
            )
            samples.append(
                (
                    len(databases.client_ports(e2e_database_url, app_name)),
                    service_processes(server.process.pid),
                )
            )
        code, _ = server.stop()
        output = server.output()
    print(f"dev reload (connections, processes) after each reload: {samples}")  # noqa: T201
    # Every session is the live worker's (above), within its pool; the processes are the
    # same after every reload (the main process, the reloader, one worker and
    # multiprocessing's own).
    assert all(connections <= int(env["DB_POOL_MAX"]) for connections, _ in samples), samples
    assert len({processes for _, processes in samples}) == 1, samples
    assert f"{RELOADING} blueprints/health.py" in output, output
    assert code == 0, output
    assert databases.count_connections(e2e_database_url, app_name) == 0
