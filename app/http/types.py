"""The app's concrete types, and how a handler reaches the worker's context.

`app.ctx` is an `AppState`: the settings and the request metrics' tally (both made when
the app is built) and, while the worker runs, the `AppContext` built in
`before_server_start`. sanic-ext keeps its own
attributes on `app.ctx` too (`cors`, `_dependencies`); ours are these two, set nowhere else.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeAlias

from sanic import Request, Sanic
from sanic.config import Config

from app.settings import Settings

if TYPE_CHECKING:
    from app.context import AppContext
    from app.http.response_hooks import ResponseHook
    from app.observability.metrics import RequestTally


class _NotStarted:
    """The context before the worker starts and after it stops: any use says so."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the worker has not started: no context yet (asked for {name!r})")


_NOT_STARTED: Any = _NotStarted()


class AppState:
    def __init__(self, settings: Settings, tally: RequestTally | None = None) -> None:
        self.settings = settings
        self.tally = tally
        """This process's request counts not yet written to the metrics (None: metrics off)."""
        self.context: AppContext = _NOT_STARTED
        """A plain attribute, read by every handler (no property call per request)."""
        self.finish: ResponseHook | None = None
        """What every response gets before it is sent (`ApiRequest.respond` calls it)."""

    @property
    def started(self) -> bool:
        """Whether the worker has its context (between start and stop)."""
        return self.context is not _NOT_STARTED

    def attach(self, context: AppContext | None) -> None:
        """Set (at start) or clear (after stop) the worker's context."""
        self.context = _NOT_STARTED if context is None else context


OnrampApp: TypeAlias = Sanic[Config, AppState]
OnrampRequest: TypeAlias = Request[OnrampApp, SimpleNamespace]


def state_of(request: Request) -> AppState:
    state: AppState = request.app.ctx  # type: ignore[assignment]  # the app's own
    return state


def context_of(request: Request) -> AppContext:
    """The worker's context, for a handler."""
    context: AppContext = request.app.ctx.context
    return context
