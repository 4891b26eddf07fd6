"""Prometheus metrics, aggregated across every worker of a host.

With several workers, each process keeps its own numbers. prometheus-client's
multiprocess mode writes them to files in PROMETHEUS_MULTIPROC_DIR, which the main
process creates (and empties of dead workers' files) in `main_process_start`, before
any worker exists; workers inherit the variable. The library picks a metric's storage
when the metric is created, so the metrics are created once per process, by
`instruments()`, after that. Without the variable (in-process tests) numbers are per
process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.http.request import REQUESTS
from app.runtime.jobs import Job, periodic, wait_at_most
from app.runtime.process import current_pid
from app.settings import Settings
from app.state import Tally

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram
    from prometheus_client.metrics_core import Metric

    from app.context import AppContext

logger = logging.getLogger("onramp.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SAMPLER_JOB = "metrics.sampler"
FLUSHER_JOB = "metrics.flusher"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class Instruments:
    requests: Counter
    latency: Histogram
    in_flight: Gauge
    db_in_use: Gauge
    db_open: Gauge
    tasks_alive: Gauge
    worker_rss: Gauge


_instruments: Instruments | None = None


def _use_cached_pid() -> None:
    """Multiprocess values read a pid cached per process (refreshed after a fork).

    prometheus-client compares `os.getpid()` with the pid a value was made in on every
    write, to notice a fork, and glibc no longer caches the pid: a system call per
    metric write. The library lets the pid function be chosen
    (`values.MultiProcessValue(process_identifier=...)`, prometheus/client_python#509).
    It must be set before any metric object is created.
    """
    from prometheus_client import values

    make_value_class: Callable[..., Any] = values.MultiProcessValue  # untyped upstream
    values.ValueClass = make_value_class(process_identifier=current_pid)


def instruments(settings: Settings) -> Instruments:
    """This process's metric objects, created on first use (once per process)."""
    global _instruments
    if _instruments is None:
        # Imported here: the main process, which serves nothing, never loads the client.
        from prometheus_client import Counter, Gauge, Histogram

        if multiprocess_enabled():
            _use_cached_pid()
        _instruments = Instruments(
            requests=Counter(
                "onramp_http_requests_total",
                "HTTP requests answered",
                ["method", "route", "status"],
            ),
            latency=Histogram(
                "onramp_http_request_duration_seconds",
                "Time to answer an HTTP request",
                ["method", "route"],
                buckets=LATENCY_BUCKETS,
            ),
            in_flight=Gauge(
                "onramp_http_requests_in_flight",
                "Requests being handled (sampled every METRICS_SAMPLE_INTERVAL)",
                multiprocess_mode="livesum",
            ),
            db_in_use=Gauge(
                "onramp_db_connections_in_use",
                "Pool connections checked out",
                multiprocess_mode="livesum",
            ),
            db_open=Gauge(
                "onramp_db_connections_open", "Pool connections open", multiprocess_mode="livesum"
            ),
            tasks_alive=Gauge(
                "onramp_background_tasks_alive",
                "Background jobs running",
                ["name"],
                multiprocess_mode="livesum",
            ),
            worker_rss=Gauge(
                "onramp_worker_rss_bytes",
                "Resident memory of each worker",
                multiprocess_mode="liveall",
            ),
        )
    return _instruments


class RouteTally:
    """One (method, route, status)'s requests since the last flush, and where they go."""

    __slots__ = ("counter", "durations", "histogram")

    def __init__(self, counter: Any, histogram: Any) -> None:
        self.counter = counter
        self.histogram = histogram
        self.durations: list[float] = []
        """Seconds each request took; a request appends (`durations.append`, no Python
        call), `RequestTally.flush` counts them into buckets and empties the list (it
        stays the same list, so a bound `append` kept by the observer stays valid)."""


class RequestTally:
    """This worker's request counts and latencies, kept in memory and written to the
    metrics in batches.

    Written one request at a time, the counter and the histogram are three writes into
    the memory-mapped files under the client library's lock, through a dozen calls, a
    sizeable part of a read (bench/README.md). Here a request appends its
    duration to a list; `flush` buckets and writes them (at least every
    METRICS_FLUSH_INTERVAL, before every scrape this worker answers, and when the worker
    stops), so another worker's scrape sees this worker's numbers at most one interval
    late.
    """

    def __init__(self, instruments: Callable[[], Instruments], *, batched: bool = True) -> None:
        self._instruments = instruments
        """Asked at the first request: a process that serves nothing makes no metrics."""
        self._routes: list[RouteTally] = []
        self.batched = batched
        if batched:
            from app.compat.prometheus_bulk import add_observations

            self._add_observations = add_observations

    def route(self, method: str, route: str, status: int) -> RouteTally:
        """The tally of one (method, route template, status); its metric children (and the
        metrics files) are made now, at the first such request."""
        instruments = self._instruments()
        tally = RouteTally(
            instruments.requests.labels(method, route, str(status)),
            instruments.latency.labels(method, route),
        )
        self._routes.append(tally)
        return tally

    def observe_now(self, tally: RouteTally, seconds: float) -> None:
        """Unbatched (`COMPAT_DISABLED=prometheus_bulk`): through the public API."""
        tally.counter.inc()
        tally.histogram.observe(seconds)

    def flush(self) -> None:
        """Write what was kept since the last flush."""
        for tally in self._routes:
            durations = tally.durations
            if durations:
                taken = durations[:]
                durations.clear()
                buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
                for seconds in taken:
                    buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
                tally.counter.inc(len(taken))
                self._add_observations(tally.histogram, sum(taken), buckets)


def flusher_job(tally: Tally, interval: float) -> Job:
    """Writes the tally every `interval` seconds, and once more when stopped."""

    async def flush_periodically(stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await wait_at_most(stop, interval)
                tally.flush()
        finally:
            tally.flush()

    return flush_periodically


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
        from prometheus_client import multiprocess

        mark_process_dead: Callable[[int], None] = multiprocess.mark_process_dead  # untyped
        mark_process_dead(os.getpid())


def sample_worker(context: AppContext) -> None:
    """Point-in-time gauges of this worker."""
    metrics = instruments(context.settings)
    import psutil

    metrics.worker_rss.set(psutil.Process().memory_info().rss)
    metrics.in_flight.set(REQUESTS.in_flight())
    metrics.db_in_use.set(context.database.connections_in_use())
    metrics.db_open.set(context.database.open_connections())
    for name, alive in context.supervisor.running().items():
        metrics.tasks_alive.labels(name).set(1 if alive else 0)


def sampler_job(context: AppContext) -> Job:
    async def sample() -> None:
        sample_worker(context)

    return periodic(
        sample, context.settings.METRICS_SAMPLE_INTERVAL, logger, "sampling worker metrics"
    )


class _OutboxCollector:
    """Outbox depth, read from the database once per scrape (it is host-independent)."""

    def __init__(self, depth: dict[str, int]) -> None:
        self._depth = depth

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "onramp_outbox_emails", "Outbox emails by state", labels=["state"]
        )
        for state, count in sorted(self._depth.items()):
            family.add_metric([state], count)
        yield family


def render(outbox_depth: dict[str, int]) -> tuple[bytes, str]:
    """The exposition text (every worker's numbers, plus the outbox depth) and its
    content type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if multiprocess_enabled():
        registry = CollectorRegistry()
        collect_every_worker: Callable[[CollectorRegistry], object] = (
            multiprocess.MultiProcessCollector  # untyped upstream
        )
        collect_every_worker(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(_OutboxCollector(outbox_depth))
    return text + generate_latest(extra), CONTENT_TYPE_LATEST
