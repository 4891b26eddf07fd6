"""A small, bounded load generator for end-to-end tests (loopback only).

Each client sends requests back to back until the duration or the request budget is
spent, or until `stop` is set. New connections per request by default, as a load
balancer would open them. A test that acts during the load (a reload) passes its own
`result` and reads `result.answered` from its thread: it acts once the load is flowing
and stops the load once it has seen enough after, instead of sleeping.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    """Requests done so far, an int another thread may read while the load runs."""

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values()) + sum(
            count for status, count in self.statuses.items() if status >= 500
        )


async def run_load(
    url: str,
    *,
    clients: int = 8,
    seconds: float = 5.0,
    max_requests: int = 20_000,
    keep_alive: bool = False,
    result: LoadResult | None = None,
    stop: threading.Event | None = None,
) -> LoadResult:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("load is only ever sent to loopback")
    result = LoadResult() if result is None else result
    stopped = stop.is_set if stop is not None else lambda: False
    deadline = time.monotonic() + seconds
    budget = [max_requests]
    limits = httpx.Limits(max_keepalive_connections=clients if keep_alive else 0)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline and budget[0] > 0 and not stopped():
            budget[0] -= 1
            try:
                response = await client.get(url)
                result.statuses[response.status_code] += 1
            except httpx.HTTPError as error:
                result.errors[type(error).__name__] += 1
            result.answered += 1

    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return result
