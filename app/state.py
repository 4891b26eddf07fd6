"""The app's concrete types: what `app.ctx` holds, and the app typed with it.

`app.ctx` is an `AppState`: the settings and the request metrics' tally (both made when
the app is built) and, while the worker runs, the `AppContext` built in
`before_server_start`. sanic-ext keeps its own attributes on `app.ctx` too (`cors`,
`_dependencies`); ours are these, set nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from sanic import Sanic
from sanic.config import Config

from app.settings import Settings

if TYPE_CHECKING:  # the domain loads in the worker only (`app.lifecycle.context`)
    from app.context import AppContext


class Tally(Protocol):
    """This process's request counts not yet written to the metrics
    (`app.observability.metrics.RequestTally`)."""

    batched: bool

    def flush(self) -> None: ...


class _NotStarted:
    """The context before the worker starts and after it stops: any use says so."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the worker has not started: no context yet (asked for {name!r})")


_NOT_STARTED: Any = _NotStarted()


class AppState:
    def __init__(self, settings: Settings, tally: Tally | None = None) -> None:
        self.settings = settings
        self.tally = tally
        """None: metrics are off."""
        self.context: AppContext = _NOT_STARTED
        """A plain attribute, read by every handler (no property call per request)."""

    @property
    def started(self) -> bool:
        """Whether the worker has its context (between start and stop)."""
        return self.context is not _NOT_STARTED

    def attach(self, context: AppContext | None) -> None:
        """Set (at start) or clear (after stop) the worker's context."""
        self.context = _NOT_STARTED if context is None else context


OnrampApp: TypeAlias = Sanic[Config, AppState]
