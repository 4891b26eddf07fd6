"""Retention: events older than AUDIT_RETENTION_DAYS are deleted by a supervised job.

Safe in several workers at once: each run deletes what is past its time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from app.audit.models import AuditEvent
from app.runtime.db import unit_of_work
from app.runtime.jobs import Job, periodic

logger = logging.getLogger("onramp.audit")

JOB_NAME = "audit.retention"


def retention_job(days: int, interval: float) -> Job:
    kept = timedelta(days=days)

    @unit_of_work
    async def purge_old_events() -> int:
        purged = await AuditEvent.filter(created_at__lt=datetime.now(UTC) - kept).delete()
        if purged:
            logger.info("purged %d audit events older than %d days", purged, days)
        return purged

    return periodic(purge_old_events, interval, logger, "purging old audit events")
