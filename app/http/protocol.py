"""The HTTP protocol for the CLI server: shutdown does not drop fresh connections.

When a worker stops (SIGTERM, zero-downtime reload), Sanic closes the listening
socket and then every "idle" connection at once. A connection the worker accepted in
its last moments, whose request bytes have not been read yet, counts as idle: its client
gets "server disconnected without a response" although it did nothing wrong. Here such
a connection gets a short grace to deliver its request, which is then answered; every
connection closes as soon as it is idle after its response, so shutdown stays fast.
"""

from __future__ import annotations

from sanic.http import Stage
from sanic.server.protocols.http_protocol import HttpProtocol

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
