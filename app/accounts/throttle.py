"""Login throttling, counted in the database so every worker and host agrees.

Too many failures for one email, or from one client address, within the window get
429 with `Retry-After` until the oldest counted failure leaves the window.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import cast

from app.accounts.models import LoginFailure
from app.settings import Settings


async def retry_after(settings: Settings, email: str, client_ip: str) -> int | None:
    """Seconds to wait, or None when a login may be attempted now."""
    now = datetime.now(UTC)
    since = now - timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    waits: list[float] = []
    for field, value, limit in (
        ("email", email, settings.LOGIN_MAX_FAILURES_PER_EMAIL),
        ("client_ip", client_ip, settings.LOGIN_MAX_FAILURES_PER_IP),
    ):
        recent = (
            LoginFailure.filter(**{field: value}, created_at__gte=since)
            .order_by("-created_at")
            .limit(limit)
        )
        times = cast(list[datetime], await recent.values_list("created_at", flat=True))
        if len(times) >= limit:
            oldest_counted = min(times)
            window_end = oldest_counted + timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
            waits.append((window_end - now).total_seconds())
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))


async def record_failure(settings: Settings, email: str, client_ip: str) -> None:
    await LoginFailure.create(email=email, client_ip=client_ip)
    cutoff = datetime.now(UTC) - timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    await LoginFailure.filter(created_at__lt=cutoff).delete()


async def clear(email: str) -> None:
    """A successful login forgives that email's failures (not the address's)."""
    await LoginFailure.filter(email=email).delete()
