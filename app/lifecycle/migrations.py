"""Migrations in the main process, once, before any worker serves (development and
tests: `MIGRATE_ON_START`); production runs `python -m app migrate` per deploy."""

from __future__ import annotations

from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    if not settings.MIGRATE_ON_START:
        return

    async def apply_migrations(app: OnrampApp) -> None:
        from app.runtime.migrations import migrate
        from app.runtime.startup import StartupError, stop_starting

        try:
            await migrate(settings)
        except StartupError as error:
            stop_starting(error)

    app.main_process_start(apply_migrations)
