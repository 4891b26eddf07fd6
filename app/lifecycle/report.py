"""One line per worker stop: what was closed, drained, cancelled or handed back, and
whether anything is still open, so a leak shows in the logs before it hurts."""

from __future__ import annotations

import logging
import os

from app.lifecycle.priorities import REPORT
from app.observability.logging.formatter import worker_name
from app.state import OnrampApp

logger = logging.getLogger("onramp.lifecycle")


def install(app: OnrampApp) -> None:
    async def report_shutdown(app: OnrampApp) -> None:
        context = app.ctx.context
        jobs = context.supervisor.report
        mail = context.dispatcher.stats
        still_running = [name for name, alive in context.supervisor.running().items() if alive]
        still_open = [f"jobs:{','.join(still_running)}"] if still_running else []
        if context.database.open_connections():
            still_open.append(f"db_connections:{context.database.open_connections()}")
        logger.info(
            "shutdown report: worker=%s pid=%d db_connections_closed=%d jobs_drained=%d "
            "jobs_cancelled=%d jobs_failed=%d executors_closed=%d emails_sent=%d "
            "emails_handed_back=%d still_open=%s seconds(jobs=%.2f)",
            worker_name(),
            os.getpid(),
            context.database.closed_count,
            len(jobs.drained),
            len(jobs.cancelled),
            len(jobs.failed),
            context.executor.closed_count,
            mail.sent,
            mail.handed_back,
            ";".join(still_open) or "none",
            jobs.seconds,
        )

    app.after_server_stop(report_shutdown, priority=REPORT)
