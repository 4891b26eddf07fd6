"""Migrations, applied once before workers serve, on one short-lived connection.

Never in a worker: several workers would race to change the schema, and a slow
migration would run into the worker manager's 30-second start-up acknowledgement.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from app.runtime.db import tortoise_config
from app.runtime.startup import database_failure, is_connection_failure, redacted
from app.settings import Settings

logger = logging.getLogger("onramp.db")


async def migrate(settings: Settings) -> list[str]:
    """Apply pending migrations; return the names applied (empty: already up to date).

    The connection is closed before this returns.
    """
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    try:
        async with TortoiseContext():
            # `migrate_api` initialises the context entered above; leaving it closes the
            # connection and restores the previous context.
            await migrate_api(config=tortoise_config(settings, pool_max=1), progress=progress)
    except Exception as error:
        if is_connection_failure(error):
            raise database_failure(error, settings) from error
        raise
    if applied:
        logger.info("migrations applied to %s: %s", redacted(settings.DATABASE_URL), applied)
    else:
        logger.info("no migrations to apply to %s", redacted(settings.DATABASE_URL))
    return applied


async def migration_status(settings: Settings) -> tuple[list[str], list[str]]:
    """(applied, pending) migration names, oldest first; changes nothing."""
    from tortoise.migrations.recorder import MigrationRecorder

    from app.runtime.db import connection

    pending: list[str] = []

    def collect(_connection: str, steps: list[Any], _fake: bool, _dry_run: bool) -> None:
        pending.extend(f"{step.migration.app_label}.{step.migration.name}" for step in steps)

    try:
        async with TortoiseContext():
            await migrate_api(
                config=tortoise_config(settings, pool_max=1), dry_run=True, reporter=collect
            )
            applied = await MigrationRecorder(connection()).applied_migrations()
    except Exception as error:
        if is_connection_failure(error):
            raise database_failure(error, settings) from error
        raise
    return [f"{key.app_label}.{key.name}" for key in applied], pending
