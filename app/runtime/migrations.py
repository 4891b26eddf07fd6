"""Migrations, applied once before workers serve, on one short-lived connection.

Never in a worker: several workers would race to change the schema, and a slow
migration would run into the worker manager's 30-second start-up acknowledgement.
"""

from __future__ import annotations

import logging

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from app.runtime.db import tortoise_config
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

    async with TortoiseContext():
        # `migrate_api` initialises the context entered above; leaving it closes the
        # connection and restores the previous context.
        await migrate_api(config=tortoise_config(settings, pool_max=1), progress=progress)
    if applied:
        logger.info("migrations applied to %s: %s", redacted(settings.DATABASE_URL), applied)
    else:
        logger.info("no migrations to apply to %s", redacted(settings.DATABASE_URL))
    return applied


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
