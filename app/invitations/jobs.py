"""The periodic expiry of invitations, run in every worker by the task supervisor.

Running it in several workers at once is safe: each invitation changes state once, by
a conditional update, whichever worker gets there first.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import cast

from app.invitations import flows
from app.invitations.models import OPEN_STATUSES, Invitation
from app.runtime.db import unit_of_work
from app.runtime.jobs import Job, periodic

logger = logging.getLogger("onramp.invitations")

JOB_NAME = "invitations.expiry"


async def expire_due() -> int:
    """Mark open invitations past their expiry as expired; return how many."""
    now = datetime.now(UTC)
    due = cast(
        list[uuid.UUID],
        await Invitation.filter(status__in=OPEN_STATUSES, expires_at__lte=now).values_list(
            "id", flat=True
        ),
    )
    count = 0
    for invitation_id in due:
        count += await _expire(invitation_id, now)
    if count:
        logger.info("expired %d invitation(s)", count)
    return count


@unit_of_work
async def _expire(invitation_id: uuid.UUID, now: datetime) -> bool:
    """One invitation at a time: each its own transaction, a short lock."""
    return await flows.expired(invitation_id, now)


def expiry_job(interval: float) -> Job:
    return periodic(expire_due, interval, logger, "expiring invitations")
