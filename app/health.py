"""Readiness: can this worker serve real requests right now?"""

from __future__ import annotations

from app.lifecycle.db import Database
from app.lifecycle.tasks import TaskSupervisor
from app.types import OnrampApp

DB_CHECK_TIMEOUT = 1.0


async def failed_checks(app: OnrampApp) -> list[dict[str, str]]:
    """Each failed check with why; empty when the worker is ready."""
    failures: list[dict[str, str]] = []
    db: Database = app.ctx.db
    try:
        await db.ping(DB_CHECK_TIMEOUT)
    except Exception as error:  # any failure to answer is "not ready", with its reason
        failures.append({"check": "database", "error": repr(error)})
    supervisor: TaskSupervisor = app.ctx.supervisor
    for name in supervisor.dead():
        failures.append({"check": f"job:{name}", "error": "background job is not running"})
    return failures
