"""Migrations in the main process, once, before any worker serves (development and
tests: `MIGRATE_ON_START`); production runs `python -m app migrate` per deploy."""

from __future__ import annotations

from app.http.types import OnrampApp
from app.settings import Settings


def install(app: OnrampApp, settings: Settings) -> None:
    if not settings.MIGRATE_ON_START:
        return

    async def apply_migrations(app: OnrampApp) -> None:
        from app.runtime.migrations import migrate

        await migrate(settings)

    app.main_process_start(apply_migrations)
