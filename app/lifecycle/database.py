"""The worker's database connections: opened at start, all closed at stop."""

from __future__ import annotations

from app.lifecycle.priorities import DATABASE
from app.state import OnrampApp


def install(app: OnrampApp) -> None:
    async def open_database(app: OnrampApp) -> None:
        await app.ctx.context.database.open()

    async def close_database(app: OnrampApp) -> None:
        await app.ctx.context.database.close()

    app.before_server_start(open_database, priority=DATABASE)
    app.after_server_stop(close_database, priority=DATABASE)
