"""Benchmark and soak runner: `python -m bench` (`make bench`), `python -m bench --soak 10`.

Starts the real server (`sanic server:app`, production profile, PostgreSQL) and the
limit app side by side on loopback, seeds a fresh database, drives both with wrk
(interleaved, medians), samples every worker's RSS, CPU, threads and fds, and the
database's connections, writes bench/results/<stamp>.{md,json}, prints a summary,
and stops everything it started. Load goes to 127.0.0.1 only, bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from bench import seed as seeding

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_name("lua")
RESULTS = Path(__file__).with_name("results")
SANIC = Path(sys.executable).with_name("sanic")
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
APP_NAME = "onramp-bench"
SECRET = "bench-" + secrets.token_urlsafe(32)


def migrate(env: dict[str, str]) -> None:
    """`python -m app migrate` against the benchmark's database."""
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"onramp_bench_{os.getpid()}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _db_connections(url: str) -> int:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = $2",
                url.rsplit("/", 1)[1],
                APP_NAME,
            )
        )
    finally:
        await connection.close()


def db_connections(url: str) -> int:
    return asyncio.run(_db_connections(url))


class Server:
    """One `sanic ... --workers N` process group on a free loopback port."""

    def __init__(self, target: str, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = log.open("wb")
        argv = [
            str(SANIC),
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers = workers

    def wait_first_200(self, timeout: float = 60) -> float:
        """Seconds from spawn to the first 200 on /health."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.005)
        raise TimeoutError(self.log_path.read_text())

    def wait_all_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log_path.read_text().count("Worker ready") < self.workers:
            if time.monotonic() > deadline:
                raise TimeoutError(self.log_path.read_text())
            time.sleep(0.05)

    def worker_processes(self) -> list[psutil.Process]:
        pids = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("Inspector"):
                pids += [int(p) for p in re.findall(r"Starting worker \[(\d+)\]", line)]
        alive = []
        for pid in pids:
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.NoSuchProcess:
                pass
        return alive

    def stop(self) -> float:
        started = time.perf_counter()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        return time.perf_counter() - started


@dataclass
class Run:
    app: str
    scenario: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float


def wrk(
    url: str,
    script: str,
    env: dict[str, str],
    *,
    seconds: float,
    connections: int,
    threads: int,
    path: str = "/",
) -> dict[str, Any]:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only ever load loopback")
    source = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{script}.lua").read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(source)
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                handle.name,
                url + path,
            ],
            env={**os.environ, **env, "BENCH_THREADS": str(threads)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"wrk failed: {result.stdout}{result.stderr}")
    finally:
        os.unlink(handle.name)
    line = next(row for row in result.stdout.splitlines() if row.startswith("BENCH_JSON "))
    return dict(json.loads(line.removeprefix("BENCH_JSON ")))


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def measured(
    app: str,
    scenario: str,
    server: Server,
    script: str,
    env: dict[str, str],
    args: argparse.Namespace,
    path: str = "/",
) -> Run:
    workers = server.worker_processes()
    cpu_before = cpu_seconds(workers)
    summary = wrk(
        server.url,
        script,
        env,
        seconds=args.duration,
        connections=args.connections,
        threads=args.threads,
        path=path,
    )
    cpu = cpu_seconds(workers) - cpu_before
    seconds = summary["duration_us"] / 1e6
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    requests = summary["requests"]
    return Run(
        app,
        scenario,
        requests,
        seconds,
        requests / seconds,
        summary["p50_ms"],
        summary["p99_ms"],
        errors,
        1000 * cpu / max(requests, 1),
    )


@dataclass
class Resources:
    label: str
    rss_mb: list[float]
    threads: int
    fds: int
    db_connections: int
    tasks_alive: float


def resources(label: str, server: Server, database_url: str) -> Resources:
    workers = server.worker_processes()
    metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
    tasks = sum(
        float(v)
        for v in re.findall(r"^onramp_background_tasks_alive\{[^}]*\} (\S+)", metrics, re.M)
    )
    return Resources(
        label,
        [round(p.memory_info().rss / 2**20, 2) for p in workers],
        sum(p.num_threads() for p in workers),
        sum(p.num_fds() for p in workers),
        db_connections(database_url),
        tasks,
    )


def slope_mb_per_100k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) against cumulative requests, per 100,000."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs) or 1.0
    return (
        100_000
        * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
        / denominator
    )


def cold_start(target: str, env: dict[str, str], workers: int, log: Path) -> float:
    server = Server(target, env, workers, log)
    try:
        return server.wait_first_200()
    finally:
        server.wait_all_ready()
        server.stop()


@dataclass
class Report:
    started_at: str
    args: dict[str, Any]
    cold_start_s: dict[str, list[float]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    resources: list[Resources] = field(default_factory=list)
    rss_points: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    rss_slope_mb_per_100k: dict[str, float] = field(default_factory=dict)
    bytes_list: dict[str, int] = field(default_factory=dict)
    stop_seconds: float = 0.0
    connections_after_stop: int = -1
    targets: list[dict[str, Any]] = field(default_factory=list)
    soak: dict[str, Any] | None = None


def median_rps(report: Report, app: str, scenario: str) -> float:
    values = [r.rps for r in report.runs if r.app == app and r.scenario == scenario]
    return statistics.median(values) if values else 0.0


def median_of(report: Report, app: str, scenario: str, attribute: str) -> float:
    values = [getattr(r, attribute) for r in report.runs if r.app == app and r.scenario == scenario]
    return statistics.median(values) if values else 0.0


def evaluate_targets(report: Report) -> None:
    def target(name: str, value: float, limit: float, ok: bool) -> None:
        report.targets.append({"target": name, "value": round(value, 3), "limit": limit, "met": ok})

    list_ratio = median_rps(report, "onramp", "vendors_list_gzip") / max(
        median_rps(report, "limit", "vendors_list_gzip"), 1e-9
    )
    get_ratio = median_rps(report, "onramp", "vendor_get") / max(
        median_rps(report, "limit", "vendor_get"), 1e-9
    )
    health_ratio = median_rps(report, "onramp", "health") / max(
        median_rps(report, "limit", "health"), 1e-9
    )
    p99 = median_of(report, "onramp", "vendors_list_gzip", "p99_ms")
    ours_cold = statistics.median(report.cold_start_s.get("onramp", [0]))
    bare_cold = statistics.median(report.cold_start_s.get("limit", [1]))
    slopes = list(report.rss_slope_mb_per_100k.values()) or [0.0]
    peak_rss = max((max(r.rss_mb) for r in report.resources if r.rss_mb), default=0.0)
    target("vendors list (auth+gzip) vs limit app", list_ratio, 0.75, list_ratio >= 0.75)
    target("vendor read vs limit app", get_ratio, 0.75, get_ratio >= 0.75)
    target("/health vs bare hello-world", health_ratio, 0.85, health_ratio >= 0.85)
    target("list p99 at test connections (ms)", p99, 50, p99 < 50)
    target("RSS slope MB per 100k requests", max(slopes), 0.5, max(slopes) < 0.5)
    target("per-worker RSS (MB)", peak_rss, 80, peak_rss < 80)
    target("cold start vs bare Sanic", ours_cold / bare_cold, 1.3, ours_cold / bare_cold <= 1.3)


def markdown(report: Report) -> str:
    lines = [
        f"# Onramp benchmark, {report.started_at}",
        "",
        f"Arguments: `{json.dumps(report.args)}`",
        "",
        "| app | scenario | req/s (median) | p50 ms | p99 ms | errors | CPU ms/req |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    seen = []
    for run in report.runs:
        key = (run.app, run.scenario)
        if key in seen:
            continue
        seen.append(key)
        runs = [r for r in report.runs if (r.app, r.scenario) == key]
        lines.append(
            f"| {run.app} | {run.scenario} | {statistics.median(r.rps for r in runs):,.0f} | "
            f"{statistics.median(r.p50_ms for r in runs):.2f} | "
            f"{statistics.median(r.p99_ms for r in runs):.2f} | {sum(r.errors for r in runs)} | "
            f"{statistics.median(r.cpu_ms_per_request for r in runs):.3f} |"
        )
    lines += ["", "| target | value | limit | met |", "| --- | ---: | ---: | --- |"]
    for t in report.targets:
        lines.append(
            f"| {t['target']} | {t['value']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |"
        )
    lines += [
        "",
        "| resources | RSS MB per worker | threads | fds | DB connections | jobs alive |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report.resources:
        lines.append(
            f"| {r.label} | {r.rss_mb} | {r.threads} | {r.fds} | {r.db_connections} | "
            f"{r.tasks_alive:g} |"
        )
    lines += [
        "",
        f"Cold start to first 200 (s): {report.cold_start_s}",
        f"RSS slope (MB per 100k requests, after warm-up): {report.rss_slope_mb_per_100k}",
        f"Vendor list bytes: {report.bytes_list}",
        f"Stop after SIGTERM: {report.stop_seconds:.2f} s; "
        f"DB connections after stop: {report.connections_after_stop}",
    ]
    if report.soak is not None:
        lines += ["", f"Soak: {json.dumps(report.soak)}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved comparison rounds")
    parser.add_argument("--load-rounds", type=int, default=5, help="mix rounds for RSS")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compress-level", type=int, default=None)
    parser.add_argument(
        "--soak",
        type=float,
        default=None,
        metavar="MINUTES",
        help="run the mix for this long and fail on growth",
    )
    parser.add_argument(
        "--slope-limit", type=float, default=1.0, help="soak: max RSS slope, MB per 100k requests"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = RESULTS / f"{stamp}-logs"
    logs.mkdir()
    report = Report(started_at=stamp, args=vars(args))
    failed = False
    with fresh_database() as database_url, ExitStack() as stack:
        common = {"SECRET_KEY": SECRET, "DATABASE_URL": database_url}
        if args.compress_level is not None:
            common["COMPRESS_LEVEL"] = str(args.compress_level)
        ours_env = {
            **common,
            "APP_ENV": "production",
            "METRICS_MODE": "public",
            "DB_APPLICATION_NAME": APP_NAME,
            "OUTBOX_DIR": str(logs / "outbox"),
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
        }
        limit_env = {
            **common,
            "SANIC_AUTO_EXTEND": "false",
            "DB_POOL_MAX": os.environ.get("DB_POOL_MAX", "10"),
        }
        migrate(ours_env)
        seeded = asyncio.run(seeding.seed(database_url))
        print(f"seeded {seeding.ORGANIZATIONS} organisations x {seeding.VENDORS_PER_ORG} vendors")

        for n in range(3):  # cold starts, interleaved
            order = [
                ("onramp", "server:app", ours_env),
                ("limit", "bench.limit_app:app", limit_env),
            ]
            for name, target, env in order if n % 2 == 0 else reversed(order):
                seconds = cold_start(target, env, args.workers, logs / f"cold-{name}-{n}.log")
                report.cold_start_s.setdefault(name, []).append(round(seconds, 3))

        ours = Server("server:app", ours_env, args.workers, logs / "onramp.log")
        limit = Server("bench.limit_app:app", limit_env, args.workers, logs / "limit.log")
        stack.callback(limit.stop)
        stack.callback(ours.stop)
        ours.wait_all_ready()
        limit.wait_all_ready()
        ours.wait_first_200()
        limit.wait_first_200()
        report.resources.append(resources("after start", ours, database_url))

        login = httpx.post(
            f"{ours.url}/api/v1/auth/login",
            timeout=10,
            json={"email": seeded.owner_emails[0], "password": seeding.PASSWORD},
        )
        token = login.json()["access_token"]
        ids_file = logs / "vendor-ids.txt"
        ids_file.write_text("\n".join(str(i) for i in seeded.vendor_ids) + "\n")
        auth = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
        for gzip_on in (False, True):
            response = httpx.get(
                f"{ours.url}/api/v1/vendors?limit=50",
                timeout=10,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept-Encoding": "gzip" if gzip_on else "identity",
                },
            )
            report.bytes_list["gzip" if gzip_on else "identity"] = response.num_bytes_downloaded

        run_counter = [0]

        def mix_env() -> dict[str, str]:
            run_counter[0] += 1
            pool = asyncio.run(
                seeding.uninvited_vendor_ids(database_url, seeded.organization_ids[0])
            )
            invite_file = logs / f"invite-ids-{run_counter[0]}.txt"
            invite_file.write_text("\n".join(pool) + "\n")
            return {**auth, "BENCH_INVITE_IDS": str(invite_file), "BENCH_RUN": str(run_counter[0])}

        # Warm-up (not reported): every code path once under load.
        warm = argparse.Namespace(**{**vars(args), "duration": 3.0})
        measured("onramp", "warm-up", ours, "mix", mix_env(), warm)
        measured(
            "limit",
            "warm-up",
            limit,
            "get",
            {**auth, "BENCH_GZIP": "1", "BENCH_PATH": "/api/v1/vendors?limit=50"},
            warm,
        )
        report.resources.append(resources("after warm-up", ours, database_url))

        pairs = [
            ("health", "get", {"BENCH_PATH": "/health"}),
            (
                "vendors_list_gzip",
                "get",
                {**auth, "BENCH_GZIP": "1", "BENCH_PATH": "/api/v1/vendors?limit=50"},
            ),
            ("vendor_get", "get", {**auth, "BENCH_PATH": "/api/v1/vendors/{id}"}),
        ]
        total_requests = 0
        for round_number in range(args.rounds):
            for scenario, script, env in pairs:
                contestants = [("onramp", ours), ("limit", limit)]
                if round_number % 2:
                    contestants.reverse()
                for name, server in contestants:
                    run = measured(name, scenario, server, script, env, args)
                    report.runs.append(run)
                    if name == "onramp":
                        total_requests += run.requests
            report.runs.append(
                measured(
                    "onramp",
                    "vendor_create",
                    ours,
                    "create",
                    {**auth, "BENCH_RUN": f"c{round_number}"},
                    args,
                )
            )
            login_args = argparse.Namespace(**{**vars(args), "connections": 8})
            report.runs.append(
                measured(
                    "onramp",
                    "login",
                    ours,
                    "login",
                    {"BENCH_EMAIL": seeded.owner_emails[1], "BENCH_PASSWORD": seeding.PASSWORD},
                    login_args,
                )
            )
            print(f"round {round_number + 1}/{args.rounds} done")

        # Load rounds on the realistic mix: RSS after each, resources sampled mid-run.
        points: dict[str, list[tuple[int, float]]] = {}
        mixed = 0
        for load_round in range(args.load_rounds):
            sampler_result: list[Resources] = []
            sampler = threading.Timer(
                args.duration / 2,
                lambda into=sampler_result, label=f"during mix round {load_round + 1}": into.append(
                    resources(label, ours, database_url)
                ),
            )
            sampler.start()
            run = measured("onramp", "mix", ours, "mix", mix_env(), args)
            sampler.join()
            report.runs.append(run)
            mixed += run.requests
            report.resources += sampler_result
            after = resources(f"after mix round {load_round + 1}", ours, database_url)
            report.resources.append(after)
            for index, rss in enumerate(after.rss_mb):
                points.setdefault(f"worker{index}", []).append((mixed, rss))
        report.rss_points = points
        report.rss_slope_mb_per_100k = {
            k: round(slope_mb_per_100k(v), 3) for k, v in points.items()
        }

        if args.soak:
            report.soak = soak(ours, database_url, mix_env, args)
            failed = not report.soak["passed"]

        report.resources.append(resources("idle, before stop", ours, database_url))
        report.stop_seconds = ours.stop()
        report.connections_after_stop = db_connections(database_url)
    evaluate_targets(report)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(asdict(report), indent=2, default=str))
    text = markdown(report)
    (RESULTS / f"{stamp}.md").write_text(text)
    print(text)
    print(f"written: bench/results/{stamp}.md and .json")
    return 1 if failed else 0


def soak(
    server: Server, database_url: str, mix_env: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """The mix for `args.soak` minutes in chunks; fails on RSS slope or resource growth."""
    deadline = time.monotonic() + args.soak * 60
    chunk = argparse.Namespace(**{**vars(args), "duration": 30.0})
    points: dict[str, list[tuple[int, float]]] = {}
    samples: list[Resources] = []
    requests = 0
    while time.monotonic() < deadline:
        run = measured("onramp", "soak", server, "mix", mix_env(), chunk)
        requests += run.requests
        sample = resources(f"soak at {requests} requests", server, database_url)
        samples.append(sample)
        for index, rss in enumerate(sample.rss_mb):
            points.setdefault(f"worker{index}", []).append((requests, rss))
    steady = {k: v[1:] for k, v in points.items()}  # the first chunk is warm-up
    slopes = {k: round(slope_mb_per_100k(v), 3) for k, v in steady.items()}
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    grew = [
        name
        for name in ("threads", "fds", "db_connections")
        if getattr(last, name) > getattr(first, name)
    ]
    passed = all(s <= args.slope_limit for s in slopes.values()) and not grew
    return {
        "minutes": args.soak,
        "requests": requests,
        "rss_slope_mb_per_100k": slopes,
        "slope_limit": args.slope_limit,
        "grew": grew,
        "passed": passed,
        "first": asdict(first),
        "last": asdict(last),
    }


if __name__ == "__main__":
    raise SystemExit(main())
