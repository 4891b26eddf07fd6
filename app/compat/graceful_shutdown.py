"""Shutdown does not drop connections that were accepted but have not sent their request.

When a worker stops (SIGTERM, zero-downtime reload), Sanic 25.12 closes the listening
socket and then every "idle" connection at once. A connection the worker accepted in
its last moments, whose request bytes have not been read yet, counts as idle: its client
gets "server disconnected without a response" although it did nothing wrong (seen under
load during every zero-downtime reload). The same holds one step later: Sanic's
connection task reads the stage as `IDLE` until it has parsed the head, so a request
whose bytes have arrived (they sit in `recv_buffer`) but whose task has not run yet is
closed unanswered too (1 request in 2,218 in one CI run). Here a connection that has
sent nothing gets a short grace to deliver its request, a connection with unread bytes
counts as busy, and every connection closes as soon as it is idle after its response,
so shutdown stays fast.

A mixin for Sanic's `HttpProtocol`, composed with the other protocol workarounds in
`app.lifecycle.compat`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sanic.http import Stage

from app.compat import Workaround

WORKAROUND = Workaround(
    name="graceful_shutdown",
    package="sanic",
    written_for="25.12.1",
    upstream="report ready to file: docs/upstream/sanic-shutdown-drops-fresh-connections.md"
    " (related: sanic-org/sanic#2191)",
    summary="connections accepted just before a stop are closed without an answer",
    shown_by="tests/test_graceful_shutdown.py::test_sanic_alone_closes_such_a_connection_unanswered",
)

FRESH_CONNECTION_GRACE = 0.25  # seconds for an accepted connection to send its request
RECHECK_INTERVAL = 0.02


if TYPE_CHECKING:  # what the mixin extends, for the type checker
    from sanic.server.protocols.http_protocol import HttpProtocol as _Protocol
else:
    _Protocol = object


class GracefulShutdown(_Protocol):
    """A mixin for Sanic's `HttpProtocol`."""

    _received_bytes: bool

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._received_bytes = False
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._received_bytes = True
        super().data_received(data)

    def close_if_idle(self) -> bool:
        """Called once per connection at shutdown; Sanic waits for the ones left open."""
        if not self._received_bytes:
            self.loop.call_later(FRESH_CONNECTION_GRACE, self._close_once_idle)
            return False
        if self._is_idle():
            self.close()
            return True
        self.loop.call_later(RECHECK_INTERVAL, self._close_once_idle)  # busy: after its response
        return False

    def _is_idle(self) -> bool:
        """Between requests, with nothing received that the connection task has yet to read."""
        return self.http is None or (self.http.stage is Stage.IDLE and not self.recv_buffer)

    def _close_once_idle(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self._is_idle():
            self.close()
        else:
            self.loop.call_later(RECHECK_INTERVAL, self._close_once_idle)
