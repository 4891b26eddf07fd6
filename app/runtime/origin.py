"""Where the current unit of work came from: an HTTP request or a background job.

The audit log records it with every change. A background job's task names itself once
when it starts (the supervisor does it, in the task's own context). A request is not
asked to do anything per request: the HTTP layer installs a *source* once per worker,
which finds the running request when, and only when, something is recorded. So the
domain reads where a change came from without knowing HTTP or Sanic, and the read path
pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    request_id: str | None = None
    ip: str | None = None
    job: str | None = None


NOWHERE = Origin()
RequestSource = Callable[[], Origin | None]

_job: ContextVar[str | None] = ContextVar("onramp_job", default=None)
_request_source: list[RequestSource] = []


def current() -> Origin:
    """The running job, else the running request, else nowhere (a script, a test)."""
    job = _job.get()
    if job is not None:
        return Origin(job=job)
    for source in _request_source:
        found = source()
        if found is not None:
            return found
    return NOWHERE


def from_job(name: str) -> None:
    """The running background job (called once when its task starts)."""
    _job.set(name)


def use_request_source(source: RequestSource) -> None:
    """How to find the running request's origin (the HTTP layer, once per worker)."""
    _request_source[:] = [source]
