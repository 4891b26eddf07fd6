"""The periodic expiry of invitations, run in every worker by the task supervisor.

Running it in several workers at once is safe: each invitation changes state once, by
a conditional update, whichever worker gets there first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.invitations import service
from app.lifecycle.tasks import Job

logger = logging.getLogger("onramp.invitations")


def expiry_job(interval: float) -> Job:
    async def expire_periodically(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                expired = await service.expire_due()
                if expired:
                    logger.info("expired %d invitation(s)", expired)
            except Exception:
                logger.exception("expiring invitations failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    return expire_periodically
