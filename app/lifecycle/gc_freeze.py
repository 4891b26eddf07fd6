"""`gc.freeze()` once a worker runs.

Everything built by then (routes, schemas, models, pools) lives as long as the worker.
Moved out of the collector's reach, a full collection no longer walks it: tens of
thousands of objects whose walk shows in the list's p99 (bench/README.md). Garbage is
collected first.
"""

from __future__ import annotations

import gc

from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    if not settings.GC_FREEZE_AFTER_START:
        return

    async def freeze_startup_objects(app: OnrampApp) -> None:
        gc.collect()
        gc.freeze()

    app.after_server_start(freeze_startup_objects, priority=-100)
