"""How Sanic reads a request: deadlines for the whole head and the whole body, not per
byte; and a head that is too large answered as a bad request, not as a large body.

Sanic 25.12 measures `REQUEST_TIMEOUT` from the last byte received, so a client that
sends one byte a second holds its connection (and a file descriptor) for as long as it
likes: 200 such connections were all open after 45 s, and 2,200 of them on a worker with
1,024 descriptors left most normal requests unanswered. The body is read in Sanic's
handler stage, where only `RESPONSE_TIMEOUT` applies: a chunked upload that stalls gets
503 "Response Timeout", and then Sanic waits, with no timeout at all, for the rest of the
body it wants to discard, so the socket is never closed; an upload trickling a chunk a
second is never timed out.

Here a request's head must arrive within `REQUEST_TIMEOUT` of its first byte and its
body within `REQUEST_BODY_TIMEOUT` of the end of the head. Past either deadline the
client gets 408 and the connection is closed; the rest of the body is not waited for.
Deadlines are checked on Sanic's own timer (every half of the smallest timeout).

A request head larger than Sanic's limit (16 KiB: a very long URL, huge cookies) is
answered `413 Content Too Large`, which is about bodies; any operation, a GET included,
can meet it, and no client expects it there. It is answered as nginx does, 400 with a
code that says what is wrong (`request_head_too_large`), documented on every operation.

The close lingers (what nginx calls `lingering_close`): the 408 is followed by a FIN,
and for `LINGER` seconds what the client still sends is read and dropped. Closed at
once, a socket that receives more bytes answers them with a reset, and a client still
uploading would lose the 408 it had not read yet.
"""

from __future__ import annotations

from time import monotonic as current_time
from typing import TYPE_CHECKING, Any

from sanic.exceptions import BadRequest, PayloadTooLarge, RequestTimeout
from sanic.http import Http, Stage

from app.compat import Workaround
from app.errors import ErrorCode

WORKAROUND = Workaround(
    name="request_limits",
    package="sanic",
    written_for="25.12.1",
    upstream="report ready to file: docs/upstream/sanic-request-limits.md",
    summary="REQUEST_TIMEOUT restarts with every byte; a stalled body is never timed out; "
    "a head over the limit is 413",
    shown_by="tests/test_upstream_still_broken.py::test_sanic_answers_a_request_head_over_its_limit_with_413",
)


class RequestHeadTooLarge(BadRequest):
    """The request line and headers exceed Sanic's limit."""

    code = ErrorCode.REQUEST_HEAD_TOO_LARGE


BODY_TIMEOUT_KEY = "REQUEST_BODY_TIMEOUT"
"""The Sanic config key the factory sets from our setting of that name."""
LINGER = 0.5


class DeadlineHttp(Http):
    """Sanic's HTTP/1.1 connection state, plus when the current head and body began."""

    __slots__ = ("body_started", "head_started")

    def __init__(self, protocol: Any) -> None:
        super().__init__(protocol)
        self.head_started = self.body_started = current_time()

    async def http1_request_header(self) -> None:
        # Called once the first bytes of a request are in (or already buffered).
        self.head_started = current_time()
        try:
            await super().http1_request_header()
        except PayloadTooLarge:
            if self.request is None:  # the head itself: no request could be made of it
                raise RequestHeadTooLarge(
                    f"The request line and headers exceed {self.HEADER_MAX_SIZE} bytes"
                ) from None
            raise  # a Content-Length over REQUEST_MAX_SIZE: 413 is right
        finally:
            self.body_started = current_time()


if TYPE_CHECKING:  # what the mixin extends, for the type checker
    from sanic.server.protocols.http_protocol import HttpProtocol as _Protocol
else:
    _Protocol = object


class RequestLimits(_Protocol):
    """A mixin for Sanic's `HttpProtocol` (see `app.lifecycle.compat`)."""

    HTTP_CLASS = DeadlineHttp

    _cut_off = False
    """Past a deadline: the connection is closing; whatever arrives is dropped."""
    _lingering = False

    def check_timeouts(self) -> None:
        http = self._http
        if self._task is not None and isinstance(http, DeadlineHttp) and self._late(http):
            # Nothing more is read from this connection: Sanic would otherwise wait for
            # the rest of the body, unbounded, before closing it.
            self._cut_off = True
            http.request_body = None
            http.exception = RequestTimeout("Request Timeout")
            self._task.cancel()  # answered 408, then closed (keep-alive is off after it)
            return
        super().check_timeouts()

    def data_received(self, data: bytes) -> None:
        if not self._cut_off:
            super().data_received(data)

    def close(self, timeout: float | None = None) -> None:
        transport = self.transport
        if (
            self._cut_off
            and not self._lingering
            and transport is not None
            and not transport.is_closing()
            and transport.can_write_eof()
        ):
            self._lingering = True  # the next call closes
            transport.write_eof()
            self.loop.call_later(LINGER, self.close, timeout)
            return
        super().close(timeout)

    def _late(self, http: DeadlineHttp) -> bool:
        now = current_time()
        if http.stage is Stage.REQUEST:
            return now - http.head_started > float(self.request_timeout)
        if http.stage is Stage.HANDLER and http.request_body:
            return now - http.body_started > float(self.app.config[BODY_TIMEOUT_KEY])
        return False
