"""A real SMTP server for tests: aiosmtpd on a loopback port, in its own thread.

It records every message it accepts. It can be made slow (to catch a shutdown
mid-delivery) or to answer every DATA with an error (to exercise retries).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from app.accounts import verification
from tests.support.net import free_port

TOKEN = re.compile(r"/invite\?token=([A-Za-z0-9_\-%]+)")
CONFIRMATION_TOKEN = re.compile(r"/verify\?token=([A-Za-z0-9_\-%]+)")


CONFIRMATION = verification.SUBJECT


class Recorder:
    def __init__(
        self, *, delay: float = 0.0, reply: str | None = None, refuse: frozenset[str] = frozenset()
    ) -> None:
        self.delay = delay
        self.reply = reply  # e.g. "451 4.3.0 try later"; None accepts
        self.refuse = refuse  # recipients answered "550 no such user"
        self.connections: set[tuple[str, int]] = set()  # client address of each message
        self.quits = 0
        self.ended: set[tuple[str, int]] = set()  # client address of each ended connection
        self.messages: list[EmailMessage] = []
        # The confirmation email every signup sends is kept apart: most tests are about
        # other email, and count or index `messages` (tests/test_verification.py reads these).
        self.confirmations: list[EmailMessage] = []
        self.refused = 0
        self.refused_to: Counter[str] = Counter()  # refusals by recipient
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.connections.add(session.peer)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply:
            with self._lock:
                self.refused += 1
                self.refused_to.update(envelope.rcpt_tos)
            return self.reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            kept = self.confirmations if message["Subject"] == CONFIRMATION else self.messages
            kept.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


class _Session(SMTP):
    """aiosmtpd's session, which also tells the recorder when its connection ends."""

    def connection_lost(self, error: Exception | None) -> None:
        recorder, peer = self.event_handler, self.session.peer
        super().connection_lost(error)
        with recorder._lock:
            recorder.ended.add(peer)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Session(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(
        self, port: int | None = None, idle_timeout: float = 300.0, **recorder: Any
    ) -> None:
        self.port = port or free_port()
        self.recorder = Recorder(**recorder)
        self._given: set[str] = set()
        self._controller = _Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            timeout=idle_timeout,  # it hangs up on a client idle this long
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.recorder.messages)

    @property
    def confirmations(self) -> list[EmailMessage]:
        return list(self.recorder.confirmations)

    def fresh_confirmation(self, address: str) -> bool:
        """Whether a confirmation email to `address` arrived that was not asked for."""
        return self._next_confirmation(address) is not None

    def _next_confirmation(self, address: str) -> str | None:
        for message in self.confirmations:
            found = CONFIRMATION_TOKEN.search(text_of(message))
            assert found, text_of(message)
            if str(message["To"]) == address and found.group(1) not in self._given:
                return found.group(1)
        return None

    def confirmation_token(self, address: str, timeout: float = 30.0) -> str:
        """The token of the next confirmation email to `address` not asked for before
        (waits for it; with an in-process server, `api.wait_until(fresh_confirmation)`
        first, so that its loop runs the dispatcher)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            token = self._next_confirmation(address)
            if token is not None:
                self._given.add(token)
                return token
            time.sleep(0.02)
        raise TimeoutError(f"no confirmation email to {address} within {timeout}s")

    def message_to(self, address: str, timeout: float = 30.0) -> EmailMessage:
        """The first email to `address` (confirmations aside), once it has arrived: for
        tests that share one server and one mailbox, each with its own addresses."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if str(message["To"]) == address:
                    return message
            time.sleep(0.05)
        raise TimeoutError(f"no email to {address} within {timeout}s")

    def recipients(self) -> Counter[str]:
        return Counter(str(m["To"]) for m in self.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.recorder.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.recorder.messages)} of {count} emails after {timeout}s")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    found = TOKEN.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 5.0,
    }
