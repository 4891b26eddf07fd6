"""Where emails go: an SMTP server (aiosmtplib) or `.eml` files. One interface."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from app.runtime.executor import BlockingExecutor
from app.settings import Settings

logger = logging.getLogger("onramp.mail")

QUIT_TIMEOUT = 1.0
"""Seconds a server gets to answer QUIT at the end of a batch (a stop waits for it)."""


class DeliveryError(Exception):
    """Sending failed. `reason` is our own wording (shown to customers on the object the
    email was for); `detail` is the technical cause, for operators. `permanent` ones are
    not retried (e.g. a rejected recipient)."""

    def __init__(self, reason: str, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class Transport(Protocol):
    """Sends happen in sessions: the dispatcher opens one per batch of claimed rows."""

    name: str

    def session(self) -> AbstractAsyncContextManager[Sender]: ...


class SmtpTransport:
    """SMTP through aiosmtplib, connections reused within a dispatcher batch."""

    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def session(self) -> SmtpSession:
        return SmtpSession(self._settings)


class SmtpSession:
    """The SMTP connections of one batch: each message takes an idle connection or
    opens one, and gives it back when its message went through.

    One connection per message cost a TCP handshake, the greeting, EHLO (and STARTTLS
    and AUTH where configured) for every email: 260 emails/s per worker to a local
    server. Reused, the per-message cost is MAIL, RCPT and DATA. What stays as before:
    one message's failure is that message's only. A connection whose message failed is
    closed, never reused (whatever state the server left it in), and a message that
    found its reused connection dropped by the server (an idle timeout, a limit of
    messages per connection) is sent again once on a new connection: it was not at
    fault. Every connection is closed (QUIT) when the batch ends, or after
    SMTP_MESSAGES_PER_CONNECTION messages, so nothing stays open between batches.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, int]] = []  # (connection, messages sent)
        self._open: set[aiosmtplib.SMTP] = set()

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(self, message: EmailMessage) -> None:
        try:
            await self._send(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(
                "the recipient's mail server refused the address",
                f"recipient refused: {error}",
                permanent=True,
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            permanent = 500 <= error.code < 600
            reason = (
                f"the mail server rejected the message (SMTP {error.code})"
                if permanent
                else f"the mail server deferred the message (SMTP {error.code})"
            )
            raise DeliveryError(
                reason, f"SMTP {error.code}: {error.message}", permanent=permanent
            ) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(
                "the mail server could not be reached", f"{type(error).__name__}: {error}"
            ) from error

    async def _send(self, message: EmailMessage) -> None:
        if self._idle:
            connection, sent = self._idle.pop()
            try:
                await connection.send_message(message)
            except aiosmtplib.SMTPServerDisconnected:
                self._discard(connection)  # dropped while idle: not this message's fault
            except BaseException:
                self._discard(connection)
                raise
            else:
                await self._give_back(connection, sent + 1)
                return
        connection = await self._connect()
        try:
            await connection.send_message(message)
        except BaseException:
            self._discard(connection)
            raise
        await self._give_back(connection, 1)

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        connection = aiosmtplib.SMTP(
            hostname=s.SMTP_HOST,
            port=s.SMTP_PORT,
            username=s.SMTP_USERNAME or None,
            password=s.SMTP_PASSWORD.get_secret_value() or None,
            start_tls=s.SMTP_STARTTLS,
            use_tls=s.SMTP_TLS,
            timeout=s.SMTP_TIMEOUT,
        )
        self._open.add(connection)
        try:
            await connection.connect()
        except BaseException:
            self._discard(connection)
            raise
        return connection

    async def _give_back(self, connection: aiosmtplib.SMTP, sent: int) -> None:
        if sent < self._settings.SMTP_MESSAGES_PER_CONNECTION:
            self._idle.append((connection, sent))
        else:
            await self._quit(connection)

    def _discard(self, connection: aiosmtplib.SMTP) -> None:
        self._open.discard(connection)
        connection.close()

    async def _quit(self, connection: aiosmtplib.SMTP) -> None:
        """QUIT politely; a server that does not answer in time is simply hung up on."""
        self._open.discard(connection)
        try:
            await connection.quit(timeout=min(QUIT_TIMEOUT, self._settings.SMTP_TIMEOUT))
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            connection.close()

    async def close(self) -> None:
        """Every connection of the session, idle or not, ends here."""
        self._idle.clear()
        await asyncio.gather(*(self._quit(c) for c in list(self._open)))


class FileTransport:
    """Writes each message to OUTBOX_DIR/<message-id>.eml: the development default.

    Beside it, <message-id>.txt holds the same message as a person reads it: the
    addresses, the subject and the plain-text body, decoded (the .eml is
    quoted-printable, where a link's `token=` reads `token=3D` and long lines break)."""

    name = "file"

    def __init__(self, directory: Path, executor: BlockingExecutor) -> None:
        self._directory = directory
        self._executor = executor

    @asynccontextmanager
    async def session(self) -> AsyncIterator[FileTransport]:
        """Files need no connection: the transport is its own sender."""
        yield self

    async def send(self, message: EmailMessage) -> None:
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        path = self._directory / f"{stem}.eml"
        try:
            await self._executor.run(self._write, path, bytes(message), readable_text(message))
        except OSError as error:
            raise DeliveryError(
                "the email could not be written to the outbox folder",
                f"{type(error).__name__}: {error}",
            ) from error
        logger.info("email to %s written to %s", message["To"], path.with_suffix(".txt"))

    @staticmethod
    def _write(path: Path, data: bytes, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".txt").write_text(text)
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a message (the .txt is there first)


def readable_text(message: EmailMessage) -> str:
    """The message as a person reads it: who, what, and the plain-text body, decoded."""
    body = message.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return f"From: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n\n{text}"


def make_transport(settings: Settings, executor: BlockingExecutor) -> Transport:
    if settings.SMTP_HOST:
        return SmtpTransport(settings)
    return FileTransport(Path(settings.OUTBOX_DIR), executor)
