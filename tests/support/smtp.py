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

from tests.support.net import free_port

TOKEN = re.compile(r"/invite\?token=([A-Za-z0-9_\-%]+)")


class Recorder:
    def __init__(self, *, delay: float = 0.0, reply: str | None = None) -> None:
        self.delay = delay
        self.reply = reply  # e.g. "451 4.3.0 try later"; None accepts
        self.messages: list[EmailMessage] = []
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply:
            with self._lock:
                self.refused += 1
            return self.reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int | None = None, **recorder: Any) -> None:
        self.port = port or free_port()
        self.recorder = Recorder(**recorder)
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.recorder.messages)

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
