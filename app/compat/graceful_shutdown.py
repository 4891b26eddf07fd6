"""Shutdown does not drop connections that were accepted but have not sent their request.

When a worker stops (SIGTERM, zero-downtime reload), Sanic 25.12 closes the listening
socket and then every "idle" connection at once. A connection the worker accepted in
its last moments, whose request bytes have not been read yet, counts as idle: its client
gets "server disconnected without a response" although it did nothing wrong (seen under
load during every zero-downtime reload). Here such a connection gets a short grace to
deliver its request, which is then answered; every connection closes as soon as it is
idle after its response, so shutdown stays fast.

The protocol class is swapped in `main_process_start`: workers receive their server
settings from the main process after that listener, and Sanic offers no public switch
for the CLI's protocol (`sanic server:app` takes none).
"""

from __future__ import annotations

from typing import Any

from sanic.http import Stage
from sanic.server.protocols.http_protocol import HttpProtocol

from app.compat import Workaround

WORKAROUND = Workaround(
    name="graceful_shutdown",
    package="sanic",
    written_for="25.12.1",
    upstream="not yet reported upstream: docs/upstream/sanic-shutdown-drops-fresh-connections.md"
    " (related: sanic-org/sanic#2191)",
    summary="connections accepted just before a stop are closed without an answer",
)

FRESH_CONNECTION_GRACE = 0.25  # seconds for an accepted connection to send its request
RECHECK_INTERVAL = 0.02


class GracefulHttpProtocol(HttpProtocol):
    __slots__ = ("_received_bytes",)

    def connection_made(self, transport):  # type: ignore[no-untyped-def]
        self._received_bytes = False
        super().connection_made(transport)  # type: ignore[no-untyped-call]

    def data_received(self, data: bytes) -> None:
        self._received_bytes = True
        super().data_received(data)

    def close_if_idle(self) -> bool:
        """Called once per connection at shutdown; Sanic waits for the ones left open."""
        if not self._received_bytes:
            self.loop.call_later(FRESH_CONNECTION_GRACE, self._close_once_idle)
            return False
        if super().close_if_idle():
            return True
        self.loop.call_later(RECHECK_INTERVAL, self._close_once_idle)  # busy: after its response
        return False

    def _close_once_idle(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.http is None or self.http.stage is Stage.IDLE:
            self.close()
        else:
            self.loop.call_later(RECHECK_INTERVAL, self._close_once_idle)


def use_graceful_protocol(server_info: Any) -> None:
    """Main process, `main_process_start`: the workers' servers use the protocol above."""
    for info in server_info:
        if info.settings.get("protocol") is HttpProtocol:
            info.settings["protocol"] = GracefulHttpProtocol
