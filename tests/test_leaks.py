"""Leak regression tests: nothing grows with traffic or with app start/stop cycles.

Deterministic: after a warm-up, counts must not grow (no timing, no sleeps). One
in-process server and one reused client carry thousands of requests across every
endpoint; then 20 full start/stop cycles run every listener each time.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import tracemalloc
from collections import Counter
from dataclasses import dataclass

import psutil
import pytest
from sanic import Sanic
from sanic.router import Router

from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient

# Memory is measured here, not coverage: the tracer would only slow this down and add
# its own allocations to what is measured.
pytestmark = pytest.mark.no_cover

OUR_MODULES = ("app.", "blueprints.")
TRACEMALLOC_BOUND = 1_000_000  # bytes of growth tolerated (allocator noise, caches)


def our_objects() -> Counter[str]:
    gc.collect()
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        module = getattr(type(obj), "__module__", "")
        if isinstance(module, str) and module.startswith(OUR_MODULES):
            counts[f"{module}.{type(obj).__qualname__}"] += 1
    return counts


@dataclass
class Snapshot:
    objects: Counter[str]
    traced: int
    tasks: int
    connections_in_use: int
    connections_open: int
    threads: int
    fds: int


def snapshot(api: ApiClient | None) -> Snapshot:
    # Sanic memoises route lookups in one process-wide LRU of 1,024 (router, path,
    # method, host) entries. Every new vendor id is a new path, so it fills during the
    # run (about 0.45 MB of the 0.7 MB growth measured here): bounded, not a leak.
    # Emptied, it is in neither measurement (growth is then about 0.25 MB).
    Router.get.cache_clear()  # type: ignore[attr-defined]
    objects = our_objects()
    tasks = connections_in_use = connections_open = 0
    if api is not None:
        tasks = len(asyncio.all_tasks(api.loop))
        connections_in_use = api.app.ctx.context.database.connections_in_use()
        connections_open = api.app.ctx.context.database.open_connections()
    return Snapshot(
        objects=objects,
        traced=tracemalloc.get_traced_memory()[0],
        tasks=tasks,
        connections_in_use=connections_in_use,
        connections_open=connections_open,
        threads=threading.active_count(),
        fds=psutil.Process().num_fds(),
    )


# A leak grows with the work done (2,000+ requests, 20 cycles). A few objects
# kept alive by whatever ran last is not a leak: the current request in a context
# variable, or in the context that a pool connection's callbacks copied when a request
# opened it (bounded by the pool size). The bound stays far below any per-request or
# per-cycle growth.
NOISE = 10


def grown(before: Counter[str], after: Counter[str]) -> dict[str, tuple[int, int]]:
    return {
        name: (before[name], count) for name, count in after.items() if count > before[name] + NOISE
    }


def traffic_round(api: ApiClient, owner: str, round_number: int) -> int:
    """One pass over every endpoint; returns how many requests it made."""
    made = 0

    def hit(method: str, path: str, **kwargs: object) -> dict:  # type: ignore[type-arg]
        nonlocal made
        made += 1
        response = api.request(method, path, **kwargs)
        assert response.status_code < 500, (path, response.text)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        return response.json() if is_json and response.content else {}

    vendor = create_vendor(api, owner, name=f"Leak {round_number}")
    made += 1
    vendor_url = f"/api/v1/vendors/{vendor['id']}"
    for _ in range(5):
        hit("get", "/api/v1/vendors", params={"limit": 20}, token=owner)
        hit("get", vendor_url, token=owner)
    hit("get", "/api/v1/vendors", params={"q": "leak", "status": "draft"}, token=owner)
    hit("patch", vendor_url, json={"notes": f"round {round_number}"}, token=owner)
    hit("get", "/api/v1/me", token=owner)
    hit("get", "/health")
    hit("get", "/ready")
    hit("get", "/metrics")
    hit("get", "/nope")
    hit("post", "/api/v1/vendors", json={"name": ""}, token=owner)  # 422
    hit(
        "post",
        "/api/v1/vendors",
        content=b"{",
        headers={"Content-Type": "application/json"},
        token=owner,
    )
    invitation = hit("post", f"{vendor_url}/invitations", json={}, token=owner)
    hit("get", f"{vendor_url}/invitations", token=owner)
    hit("post", f"/api/v1/invitations/{invitation['id']}/resend", token=owner)
    hit("get", "/api/v1/invitations/lookup", params={"token": "x" * 43})  # 410
    hit("post", f"/api/v1/invitations/{invitation['id']}/revoke", token=owner)
    hit(
        "post", "/api/v1/auth/login", json={"email": "leak-owner@example.com", "password": PASSWORD}
    )
    hit("get", "/api/v1/vendor-profile", token=owner)  # 403
    hit("delete", vendor_url, token=owner)
    return made


def test_no_growth_under_thousands_of_requests(settings: Settings) -> None:
    app = make_app(settings.replace(DISPATCH_POLL_INTERVAL=0.05))
    with ApiClient(app) as api:
        owner = signup(api, email="leak-owner@example.com")["access_token"]
        for n in range(30):  # warm-up: caches, lazy imports, metric label sets
            traffic_round(api, owner, n)
        tracemalloc.start()
        try:
            before = snapshot(api)
            requests = sum(traffic_round(api, owner, n) for n in range(30, 105))
            after = snapshot(api)
        finally:
            tracemalloc.stop()
    assert requests >= 2000
    assert grown(before.objects, after.objects) == {}
    assert after.traced - before.traced < TRACEMALLOC_BOUND, after.traced - before.traced
    assert after.tasks <= before.tasks
    assert after.connections_in_use == before.connections_in_use == 0
    assert after.connections_open <= max(before.connections_open, settings.DB_POOL_MAX)
    assert after.threads <= before.threads
    assert after.fds <= before.fds


def cycle(app: Sanic) -> None:
    """Start the app (every before/after_server_start listener), use it, stop it."""
    with ApiClient(app) as api:
        token = signup(api)["access_token"]
        vendor = create_vendor(api, token)
        api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}, token=token)
        assert api.get("/ready").status_code == 200


def test_no_growth_over_twenty_start_stop_cycles(settings: Settings) -> None:
    app = make_app(settings)
    for _ in range(3):  # warm-up
        cycle(app)
    before = snapshot(None)
    for _ in range(20):
        cycle(app)
    after = snapshot(None)
    assert grown(before.objects, after.objects) == {}
    assert after.threads <= before.threads
    assert after.fds <= before.fds


def live_requests() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj).__name__ == "ApiRequest")


def test_answered_requests_are_not_kept_alive(settings: Settings) -> None:
    """What once made the leak test flaky on PostgreSQL: asyncpg's statement cache set
    an expiry timer per prepared statement, and the timer's copied context kept the
    request that first prepared it (body included) alive for 300 s. Only what is
    bounded by the pool may hold a request now: each pool connection's idle timer keeps
    the last request that released it."""
    app = make_app(settings)
    with ApiClient(app) as api:
        owner = signup(api, email="pinned@example.com")["access_token"]
        for n in range(3):  # every endpoint, so every statement is prepared at least once
            traffic_round(api, owner, n)
        assert live_requests() <= settings.DB_POOL_MAX + 2
