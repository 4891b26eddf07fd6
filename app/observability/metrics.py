"""Prometheus metrics, aggregated across every worker of a host.

With several workers, each process keeps its own numbers. prometheus-client's
multiprocess mode writes them to files in PROMETHEUS_MULTIPROC_DIR, which the main
process creates (and empties of dead workers' files) in `main_process_start`, before
any worker exists; workers inherit the variable. The library picks its storage when
first imported, so this module is imported by the factory, which in a worker runs after
the variable is set. Without the variable (in-process tests) numbers are per process.

Each multiprocess value checks the process id on every write, to notice a fork; it
gets `current_pid`, which does not make a system call each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import psutil
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import values as metric_values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.http.request import ApiRequest
from app.lifecycle.tasks import Job
from app.observability.process import current_pid
from app.types import OnrampApp

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


if os.environ.get(MULTIPROC_ENV):  # must precede the metrics below: they take the class
    metric_values.ValueClass = metric_values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=current_pid
    )

REQUESTS = Counter(
    "onramp_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "onramp_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
IN_FLIGHT = Gauge(
    "onramp_http_requests_in_flight",
    "Requests being handled (sampled every METRICS_SAMPLE_INTERVAL)",
    multiprocess_mode="livesum",
)
DB_IN_USE = Gauge(
    "onramp_db_connections_in_use", "Pool connections checked out", multiprocess_mode="livesum"
)
DB_OPEN = Gauge("onramp_db_connections_open", "Pool connections open", multiprocess_mode="livesum")
TASKS_ALIVE = Gauge(
    "onramp_background_tasks_alive",
    "Background jobs running",
    ["name"],
    multiprocess_mode="livesum",
)
WORKER_RSS = Gauge(
    "onramp_worker_rss_bytes", "Resident memory of each worker", multiprocess_mode="liveall"
)


def prepare_multiprocess_dir() -> Path:
    """Main process, before workers start: a clean directory for the workers' files."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # files of workers that no longer exist
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="onramp-metrics-"))
        os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def remove_multiprocess_dir(directory: Path, *, created: bool) -> None:
    if created:
        shutil.rmtree(directory, ignore_errors=True)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def worker_stopped() -> None:
    """Drop this worker's live gauges (counters stay: they are the host's history)."""
    if multiprocess_enabled():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def sample_worker(app: OnrampApp) -> None:
    """Point-in-time gauges of this worker."""
    WORKER_RSS.set(psutil.Process().memory_info().rss)
    IN_FLIGHT.set(ApiRequest.in_flight())
    db = getattr(app.ctx, "db", None)
    if db is not None:
        DB_IN_USE.set(db.connections_in_use())
        DB_OPEN.set(db.open_connections())
    supervisor = getattr(app.ctx, "supervisor", None)
    if supervisor is not None:
        for name, alive in supervisor.running().items():
            TASKS_ALIVE.labels(name).set(1 if alive else 0)


def sampler_job(app: OnrampApp, interval: float) -> Job:
    async def sample_periodically(stop: asyncio.Event) -> None:
        while not stop.is_set():
            sample_worker(app)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    return sample_periodically


class _OutboxCollector(Collector):
    """Outbox depth, read from the database once per scrape (it is host-independent)."""

    def __init__(self, depth: dict[str, int]) -> None:
        self._depth = depth

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily(
            "onramp_outbox_emails", "Outbox emails by state", labels=["state"]
        )
        for state, count in sorted(self._depth.items()):
            family.add_metric([state], count)
        yield family


def render(outbox_depth: dict[str, int]) -> bytes:
    """The exposition text: every worker's numbers, plus the outbox depth."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(_OutboxCollector(outbox_depth))
    return text + generate_latest(extra)
