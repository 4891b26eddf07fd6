"""The worker's hashing thread pool: opened at start, shut down at stop."""

from __future__ import annotations

from app.lifecycle.priorities import EXECUTOR
from app.state import OnrampApp


def install(app: OnrampApp) -> None:
    async def open_executor(app: OnrampApp) -> None:
        app.ctx.context.executor.open()

    async def close_executor(app: OnrampApp) -> None:
        app.ctx.context.executor.close()

    app.before_server_start(open_executor, priority=EXECUTOR)
    app.after_server_stop(close_executor, priority=EXECUTOR)
