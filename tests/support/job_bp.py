"""A background job with async cleanup, started through the supervisor (for tests).

On stop it awaits (like a dispatcher releasing leases), then records that it finished
its cleanup in the file named by ONRAMP_TEST_JOB_MARKER.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from sanic import Blueprint, Sanic

bp = Blueprint("sample_job")


async def job_with_cleanup(stop: asyncio.Event) -> None:
    marker = Path(os.environ["ONRAMP_TEST_JOB_MARKER"])
    ticks = 0
    while not stop.is_set():
        ticks += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)
    await asyncio.sleep(0.3)  # async cleanup after the stop signal
    with marker.open("a") as handle:
        handle.write(f"{os.getpid()} cleaned up after {ticks} ticks\n")


@bp.after_server_start
async def start_job(app: Sanic) -> None:
    app.ctx.context.supervisor.start("sample.cleanup_job", job_with_cleanup)
