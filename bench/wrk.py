"""Load with wrk (loopback only), and what one measured run reports."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

LUA = Path(__file__).with_name("lua")


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
    connections: int = 0


@dataclass(frozen=True)
class Load:
    """How hard to push: wrk's seconds, connections and threads."""

    seconds: float
    connections: int
    threads: int


def wrk(url: str, script: str, env: dict[str, str], load: Load, path: str = "/") -> dict[str, Any]:
    """One wrk run with `lua/<script>.lua`; the summary its `done` hook prints."""
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
                str(load.threads),
                "-c",
                str(load.connections),
                "-d",
                f"{max(1, round(load.seconds))}s",
                "--timeout",
                "5s",
                "-s",
                handle.name,
                url + path,
            ],
            env={**os.environ, **env, "BENCH_THREADS": str(load.threads)},
            capture_output=True,
            text=True,
            timeout=load.seconds + 60,
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
    url: str,
    workers: list[psutil.Process],
    script: str,
    env: dict[str, str],
    load: Load,
    path: str = "/",
) -> Run:
    """A wrk run against `url`, with the CPU its `workers` spent per request."""
    cpu_before = cpu_seconds(workers)
    summary = wrk(url, script, env, load, path)
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
        load.connections,
    )
