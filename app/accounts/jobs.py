"""Housekeeping, run in every worker by the task supervisor: what has expired goes.

Safe to run in several workers at once: each statement deletes what is past its time,
whoever gets there first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from app.accounts.models import OneTimeToken
from app.accounts.sessions import Sessions
from app.runtime import ratelimit
from app.runtime.db import unit_of_work
from app.runtime.jobs import Job, periodic

logger = logging.getLogger("onramp.housekeeping")

JOB_NAME = "accounts.housekeeping"
USED_TOKEN_KEPT = timedelta(days=1)  # a spent token answers "already used" for a day


@unit_of_work
async def purge_expired() -> dict[str, int]:
    now = datetime.now(UTC)
    purged = {
        "refresh_tokens": await Sessions.purge_expired(now),
        "one_time_tokens": await OneTimeToken.filter(expires_at__lt=now - USED_TOKEN_KEPT).delete(),
        "rate_counters": await ratelimit.purge(now=now.timestamp()),
    }
    if any(purged.values()):
        logger.info("purged expired rows: %s", purged)
    return purged


def housekeeping_job(interval: float) -> Job:
    return periodic(purge_expired, interval, logger, "purging expired rows")
