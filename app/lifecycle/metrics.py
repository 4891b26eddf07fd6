"""The metrics directory every worker of a host writes to (main process), and each
worker's last request counts written and its live gauges dropped when it stops."""

from __future__ import annotations

import os
from pathlib import Path

from app.observability import metrics
from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    if settings.METRICS_MODE == "off":
        return
    created_directory = not os.environ.get(metrics.MULTIPROC_ENV)
    prepared: list[Path] = []

    async def prepare_directory(app: OnrampApp) -> None:
        prepared.append(metrics.prepare_multiprocess_dir())

    async def remove_directory(app: OnrampApp) -> None:
        for directory in prepared:
            metrics.remove_multiprocess_dir(directory, created=created_directory)

    async def drop_worker_gauges(app: OnrampApp) -> None:
        # Requests answered after the flusher stopped (in flight at the stop) count too.
        if app.ctx.tally is not None:
            app.ctx.tally.flush()
        metrics.worker_stopped()

    app.main_process_start(prepare_directory)
    app.main_process_stop(remove_directory)
    app.after_server_stop(drop_worker_gauges)
