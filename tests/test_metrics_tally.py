"""Request metrics added up in memory and written in batches read exactly like the same
requests observed one by one, in the exposition and in the multiprocess files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import values as prometheus_values

from app.observability.metrics import LATENCY_BUCKETS, Instruments, RequestTally
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import create_vendor, signup
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here

# Every bucket, both ends of each, and beyond the last one.
DURATIONS = [
    *LATENCY_BUCKETS,
    *(bound * 0.999 for bound in LATENCY_BUCKETS),
    *(bound * 1.001 for bound in LATENCY_BUCKETS),
    0.0,
    7.5,
    *(random.Random(16).uniform(0, 6) for _ in range(300)),
]
LABELS = [("GET", "/a", 200), ("GET", "/a", 404), ("POST", "/b", 201)]


def _instruments(registry: CollectorRegistry) -> Instruments:
    """The two request metrics as `app.observability.metrics` defines them."""
    requests = Counter("t_requests_total", "t", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "t_latency_seconds", "t", ["method", "route"], buckets=LATENCY_BUCKETS, registry=registry
    )
    return Instruments(requests, latency, *([None] * 5))  # type: ignore[arg-type]


def _observe_one_by_one(instruments: Instruments) -> None:
    for index, seconds in enumerate(DURATIONS):
        method, route, status = LABELS[index % len(LABELS)]
        instruments.requests.labels(method, route, str(status)).inc()
        instruments.latency.labels(method, route).observe(seconds)


def _observe_in_batches(instruments: Instruments) -> RequestTally:
    tally = RequestTally(lambda: instruments)
    routes = [tally.route(*labels) for labels in LABELS]
    for index, seconds in enumerate(DURATIONS):
        routes[index % len(routes)].durations.append(seconds)
        if index % 97 == 0:  # flushes in between, as the flusher job makes them
            tally.flush()
    tally.flush()
    return tally


def _samples(exposition: bytes) -> dict[str, float]:
    """Sample name and labels -> value; creation times left out (they differ by when)."""
    found: dict[str, float] = {}
    for line in exposition.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            if "_created" not in name:
                found[name] = float(value)
    return found


def _assert_same(batched: bytes, one_by_one: bytes) -> None:
    """Counts and buckets exactly; sums up to the order of float additions."""
    got, expected = _samples(batched), _samples(one_by_one)
    assert got.keys() == expected.keys()
    histograms = {(method, route) for method, route, _ in LABELS}
    assert len([name for name in got if "_bucket" in name]) == len(histograms) * (
        len(LATENCY_BUCKETS) + 1
    )
    for name, value in expected.items():
        if "_sum" in name:
            assert got[name] == pytest.approx(value, rel=1e-12), name
        else:
            assert got[name] == value, name


def test_a_flushed_tally_reads_like_each_request_observed() -> None:
    one_by_one, batched = CollectorRegistry(), CollectorRegistry()
    _observe_one_by_one(_instruments(one_by_one))
    tally = _observe_in_batches(_instruments(batched))
    exposed = generate_latest(batched)
    _assert_same(exposed, generate_latest(one_by_one))
    tally.flush()  # nothing left: a second flush adds nothing
    assert generate_latest(batched) == exposed


def test_a_flushed_tally_reads_like_each_request_observed_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exposition(directory: Path, observe: object) -> bytes:
        directory.mkdir()
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
        monkeypatch.setattr(prometheus_values, "ValueClass", prometheus_values.MultiProcessValue())
        observe(_instruments(CollectorRegistry()))  # type: ignore[operator]
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    _assert_same(
        exposition(tmp_path / "batched", _observe_in_batches),
        exposition(tmp_path / "one_by_one", _observe_one_by_one),
    )


def _request_count(exposition: str, route: str) -> float:
    prefix = f'onramp_http_requests_total{{method="GET",route="{route}",status="200"}} '
    line = next(line for line in exposition.splitlines() if line.startswith(prefix))
    return float(line.removeprefix(prefix))


@pytest.mark.parametrize("disabled", [(), ("prometheus_bulk",)], ids=["batched", "one_by_one"])
def test_a_scrape_counts_every_request_this_worker_answered(
    settings: Settings, disabled: tuple[str, ...]
) -> None:
    app = make_app(settings.replace(METRICS_MODE="public", COMPAT_DISABLED=disabled))
    assert app.ctx.tally is not None
    assert app.ctx.tally.batched == (not disabled)
    with ApiClient(app) as api:
        token = signup(api)["access_token"]
        vendor = create_vendor(api, token)
        route = "/api/v1/vendors/<vendor_id:uuid>"
        before = api.get("/metrics").text
        count_before = _request_count(before, route) if route in before else 0.0
        for _ in range(5):
            assert api.get(f"/api/v1/vendors/{vendor['id']}", token=token).status_code == 200
        assert _request_count(api.get("/metrics").text, route) == count_before + 5
