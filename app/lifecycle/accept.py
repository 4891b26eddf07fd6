"""Stop accepting connections as the first step of a worker's shutdown.

Sanic keeps its listening socket open while `before_server_stop` listeners run, then
closes it and drops every connection that has not sent its request yet ("idle"). A
client whose connection the stopping worker accepted just before that gets
"server disconnected without a response" - a failed request during a zero-downtime
reload. Closing this worker's listener first (the socket is shared: the other workers
keep accepting) and pausing briefly lets those last connections deliver their request,
which is then answered normally.

Sanic does not expose its server object to listeners, so it is found among live
objects by its listening socket; with no match (another loop, a future Sanic) this
does nothing and shutdown proceeds as before.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from app.types import OnrampApp

logger = logging.getLogger("onramp.lifecycle")

SETTLE_SECONDS = 0.05


def _listening_fds(app: OnrampApp) -> set[int]:
    fds = set()
    for info in app.state.server_info:
        sock = info.settings.get("sock")
        if sock is not None and sock.fileno() >= 0:
            fds.add(sock.fileno())
    return fds


def _servers_on(fds: set[int]) -> list[Any]:
    found = []
    for candidate in gc.get_objects():
        if type(candidate).__name__ != "Server" or not hasattr(candidate, "close"):
            continue
        sockets = getattr(candidate, "sockets", None) or ()
        if any(getattr(sock, "fileno", lambda: -1)() in fds for sock in sockets):
            found.append(candidate)
    return found


async def stop_accepting(app: OnrampApp) -> int:
    """Close this worker's listeners; return how many were closed."""
    fds = _listening_fds(app)
    if not fds:
        return 0
    servers = _servers_on(fds)
    for server in servers:
        server.close()
    if servers:
        await asyncio.sleep(SETTLE_SECONDS)
    return len(servers)
