"""The one clock of the domain: aware datetimes in UTC (the database keeps UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
