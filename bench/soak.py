"""The soak: the realistic mix in 30-second chunks; fails on memory or resource growth."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench import resources
from bench.wrk import Load, measured
from tests.support.server import ServerProcess


def soak(
    server: ServerProcess,
    database_url: str,
    mix_env: Callable[[], dict[str, str]],
    minutes: float,
    load: Load,
    slope_limit: float,
) -> dict[str, Any]:
    deadline = time.monotonic() + minutes * 60
    chunk = Load(30.0, load.connections, load.threads)
    points: dict[str, list[tuple[int, float]]] = {}
    samples: list[resources.Resources] = []
    requests = 0
    while time.monotonic() < deadline:
        workers = server.worker_processes()
        run = measured("onramp", "soak", server.url, workers, "mix", mix_env(), chunk)
        requests += run.requests
        sample = resources.sample(f"soak at {requests} requests", server, database_url)
        samples.append(sample)
        for index, rss in enumerate(sample.rss_mb):
            points.setdefault(f"worker{index}", []).append((requests, rss))
    steady = {k: v[1:] for k, v in points.items()}  # the first chunk is warm-up
    slopes = {k: round(resources.slope_mb_per_100k(v), 3) for k, v in steady.items()}
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    grew = [
        name
        for name in ("threads", "fds", "db_connections")
        if getattr(last, name) > getattr(first, name)
    ]
    passed = all(s <= slope_limit for s in slopes.values()) and not grew
    return {
        "minutes": minutes,
        "requests": requests,
        "rss_slope_mb_per_100k": slopes,
        "slope_limit": slope_limit,
        "grew": grew,
        "passed": passed,
        "first": asdict(first),
        "last": asdict(last),
    }
