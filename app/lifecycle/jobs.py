"""Background jobs: started through the supervisor once the worker serves, stopped
(bounded) before it stops. See `app.runtime.supervisor` for why not Sanic's own tasks."""

from __future__ import annotations

from app.observability import metrics
from app.observability.logging.buffered import JOB_NAME as LOG_FLUSHER_JOB
from app.observability.logging.buffered import log_flusher_job
from app.runtime.jobs import Job
from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    async def start_jobs(app: OnrampApp) -> None:
        context = app.ctx.context
        jobs: dict[str, Job] = {}
        if settings.LOG_BUFFER_BYTES > 0:
            jobs[LOG_FLUSHER_JOB] = log_flusher_job(
                settings.LOG_BUFFER_BYTES, settings.LOG_FLUSH_INTERVAL
            )
        jobs.update(context.jobs())
        if settings.METRICS_MODE != "off":
            jobs[metrics.SAMPLER_JOB] = metrics.sampler_job(context)
        tally = app.ctx.tally
        if tally is not None and tally.batched:
            interval = settings.METRICS_FLUSH_INTERVAL
            jobs[metrics.FLUSHER_JOB] = metrics.flusher_job(tally, interval)
        for name, job in jobs.items():
            context.supervisor.start(name, job)

    async def stop_jobs(app: OnrampApp) -> None:
        await app.ctx.context.supervisor.stop(settings.SHUTDOWN_TASK_TIMEOUT)

    app.after_server_start(start_jobs)
    app.before_server_stop(stop_jobs)
