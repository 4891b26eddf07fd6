"""Request ids: echo a sane incoming `X-Request-ID`, otherwise make one.

The id is computed once per request and kept on `request.ctx`, so the error handler
and the response middleware see the same value. Every id handed out matches
`[A-Za-z0-9._:-]{1,128}`, so it goes into a JSON string or a header as it is
(`is_sane`).

A made id is this process's random prefix plus a counter, not a uuid4: ids only need
to be unique, not unpredictable, and a counter needs no system call. Workers are
spawned, each with its own prefix; a forked child draws a new one, so two processes
never share a prefix.
"""

from __future__ import annotations

import itertools
import os
import re

from app.http.request import OnrampRequest

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class _IdSource:
    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.stream = map(f"{self.prefix}{{:016x}}".format, itertools.count())
        """Made ids: 32 hex characters, like `uuid4().hex`."""

    def next_id(self) -> str:
        return next(self.stream)


_ids = _IdSource()
os.register_at_fork(after_in_child=_ids.reseed)


def is_sane(value: str) -> bool:
    """Whether `value` may serve as a request id as it is."""
    return _SANE.fullmatch(value) is not None


def request_id(request: OnrampRequest) -> str:
    """The request's id: a sane incoming one, or a new one (kept for the request)."""
    ctx = request.ctx
    known = ctx.request_id
    if known is None:
        incoming = request.headers.get(HEADER)
        known = incoming if incoming and _SANE.fullmatch(incoming) else next(_ids.stream)
        ctx.request_id = known
    return known
