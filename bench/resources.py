"""What the workers hold: RSS, threads, fds, database connections, background jobs."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

import httpx

from tests.support import databases
from tests.support.server import ServerProcess

APP_NAME = "onramp-bench"


@dataclass
class Resources:
    label: str
    rss_mb: list[float]
    threads: int
    fds: int
    db_connections: int
    tasks_alive: float


def sample(label: str, server: ServerProcess, database_url: str) -> Resources:
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
        databases.count_connections(database_url, APP_NAME),
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
