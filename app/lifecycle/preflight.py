"""Main process, before any worker starts (and before migrations): what the workers will
need and cannot fix themselves is checked once, the address to listen on and the
outbox folder, and a problem stops start-up with one line (exit 2)."""

from __future__ import annotations

from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    async def check_port_and_outbox_folder(app: OnrampApp) -> None:
        from app.runtime.startup import (
            StartupError,
            check_outbox_dir,
            check_port_free,
            stop_starting,
        )

        try:
            for info in app.state.server_info:
                host, port = info.settings.get("host"), info.settings.get("port")
                if host and port and not info.settings.get("sock"):
                    check_port_free(host, port)
            check_outbox_dir(settings)
        except StartupError as error:
            stop_starting(error)

    app.main_process_start(check_port_and_outbox_folder)
