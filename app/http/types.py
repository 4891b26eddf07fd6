"""The app's concrete types, and how a handler reaches the worker's context.

`app.ctx` is an `AppState`: the settings and the request metrics' tally (both made when
the app is built) and, while the worker runs, the `AppContext` built in
`before_server_start`. sanic-ext keeps its own
attributes on `app.ctx` too (`cors`, `_dependencies`); ours are these two, set nowhere else.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, TypeAlias, cast

from sanic import Request, Sanic
from sanic.config import Config

from app.settings import Settings

if TYPE_CHECKING:
    from app.context import AppContext
    from app.observability.metrics import RequestTally


class AppState:
    def __init__(self, settings: Settings, tally: RequestTally | None = None) -> None:
        self.settings = settings
        self.tally = tally
        """This process's request counts not yet written to the metrics (None: metrics off)."""
        self._context: AppContext | None = None

    @property
    def context(self) -> AppContext:
        if self._context is None:
            raise RuntimeError("the worker has not started: no context yet")
        return self._context

    @property
    def started(self) -> bool:
        """Whether the worker has its context (between start and stop)."""
        return self._context is not None

    def attach(self, context: AppContext | None) -> None:
        """Set (at start) or clear (after stop) the worker's context."""
        self._context = context


OnrampApp: TypeAlias = Sanic[Config, AppState]
OnrampRequest: TypeAlias = Request[OnrampApp, SimpleNamespace]


def state_of(request: Request) -> AppState:
    return cast(AppState, request.app.ctx)


def context_of(request: Request) -> AppContext:
    """The worker's context, for a handler."""
    state = cast(AppState, request.app.ctx)
    return state.context
