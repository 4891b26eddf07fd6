"""The worker's `AppContext`: built first at start, dropped last at stop.

The domain is imported here, inside the listener, so the main process (which builds the
app but never serves) does not load the ORM, the password hasher or the mail client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from app.lifecycle.priorities import CONTEXT
from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    async def build(app: OnrampApp) -> None:
        from app.context import build_context
        from app.http.origin import request_origin
        from app.runtime import origin

        origin.use_request_source(request_origin)

        def spawn(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
            return app.add_task(coro, name=name, register=False)

        app.ctx.attach(build_context(settings, spawn))

    async def drop(app: OnrampApp) -> None:
        app.ctx.attach(None)

    app.before_server_start(build, priority=CONTEXT)
    app.after_server_stop(drop, priority=CONTEXT)
