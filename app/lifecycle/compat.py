"""The Sanic workarounds of `app.compat`, applied where each must act (unless
switched off with COMPAT_DISABLED)."""

from __future__ import annotations

import asyncio
import importlib
import types
from functools import cache
from typing import Any

from app.settings import Settings
from app.state import OnrampApp

# Listener priorities beyond every resource's (`app.lifecycle.priorities`).
FIRST_TO_START = 1_000
FIRST_TO_STOP = -1_000

PROTOCOL_MIXINS = {
    "graceful_shutdown": "GracefulShutdown",
    "request_limits": "RequestLimits",
}
"""Workarounds that change how a connection is served: mixins for Sanic's protocol."""


def install(app: OnrampApp, settings: Settings) -> None:
    disabled = set(settings.COMPAT_DISABLED)
    mixins = [name for name in PROTOCOL_MIXINS if name not in disabled]
    if mixins:

        async def use_onramp_protocol(app: OnrampApp) -> None:
            # Swapped in `main_process_start`: workers receive their server settings
            # from the main process after this listener, and Sanic offers no public
            # switch for the CLI's protocol (`sanic server:app` takes none).
            use_protocol(app.state.server_info, mixins)

        app.main_process_start(use_onramp_protocol)
    if "manager_stop_at_start" not in disabled:

        async def end_start_wait_on_stop(app: OnrampApp) -> None:
            from app.compat import manager_stop_at_start

            manager_stop_at_start.apply()

        app.main_process_start(end_start_wait_on_stop)
    if "worker_stop_at_start" not in disabled:
        from app.compat.worker_stop_at_start import StopUntilStopping

        handlers: list[StopUntilStopping] = []

        async def take_stop_signals(app: OnrampApp) -> None:
            handler = StopUntilStopping(app, asyncio.get_running_loop())
            handler.install()  # beside Sanic's, set just before this listener
            handlers.append(handler)

        async def stop_repeating_stops(app: OnrampApp) -> None:
            while handlers:
                handlers.pop().shutting_down()

        # First of the start listeners, and first of the stop listeners (which Sanic runs
        # lowest priority first).
        app.after_server_start(take_stop_signals, priority=FIRST_TO_START)
        app.before_server_stop(stop_repeating_stops, priority=FIRST_TO_STOP)
    if "manager_signals" not in disabled:

        async def guard_manager_signals(app: OnrampApp) -> None:
            from app.compat.manager_signals import guard_shutdown_signals

            guard_shutdown_signals()

        app.main_process_ready(guard_manager_signals)


PROTOCOL_PREFIX = "OnrampHttpProtocol__"


@cache
def protocol_class(mixins: tuple[str, ...]) -> type:
    """Sanic's `HttpProtocol` with these workarounds' mixins, in `PROTOCOL_MIXINS` order.

    Workers are spawned, so the class travels to them pickled, by name: it is named
    after its mixins and found again through this module's `__getattr__`."""
    from sanic.server.protocols.http_protocol import HttpProtocol

    bases = tuple(
        getattr(importlib.import_module(f"app.compat.{name}"), PROTOCOL_MIXINS[name])
        for name in mixins
    )
    name = PROTOCOL_PREFIX + "__".join(mixins)

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__module__=__name__, __qualname__=name)

    return types.new_class(name, (*bases, HttpProtocol), exec_body=body)


def __getattr__(name: str) -> type:
    """`pickle` finding a protocol class (module attributes looked up by name)."""
    if name.startswith(PROTOCOL_PREFIX):
        mixins = tuple(name.removeprefix(PROTOCOL_PREFIX).split("__"))
        if set(mixins) <= set(PROTOCOL_MIXINS):
            return protocol_class(mixins)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def use_protocol(server_info: Any, mixins: list[str]) -> None:
    """Main process: the workers' servers use `protocol_class(mixins)` (HTTP/1.1 only;
    an app with websockets keeps Sanic's websocket protocol)."""
    from sanic.server.protocols.http_protocol import HttpProtocol

    protocol = protocol_class(tuple(mixins))
    for info in server_info:
        if info.settings.get("protocol") is HttpProtocol:
            info.settings["protocol"] = protocol
