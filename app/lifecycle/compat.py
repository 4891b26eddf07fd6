"""The Sanic workarounds of `app.compat`, applied where each must act (unless
switched off with COMPAT_DISABLED)."""

from __future__ import annotations

from app.http.types import OnrampApp
from app.settings import Settings


def install(app: OnrampApp, settings: Settings) -> None:
    disabled = set(settings.COMPAT_DISABLED)
    if "graceful_shutdown" not in disabled:

        async def use_graceful_protocol(app: OnrampApp) -> None:
            from app.compat.graceful_shutdown import use_graceful_protocol

            use_graceful_protocol(app.state.server_info)

        app.main_process_start(use_graceful_protocol)
    if "manager_signals" not in disabled:

        async def guard_manager_signals(app: OnrampApp) -> None:
            from app.compat.manager_signals import guard_shutdown_signals

            guard_shutdown_signals()

        app.main_process_ready(guard_manager_signals)
