"""Where emails go: an SMTP server (aiosmtplib) or `.eml` files. One interface."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from app.runtime.executor import BlockingExecutor
from app.settings import Settings


class DeliveryError(Exception):
    """Sending failed. `reason` is our own wording (shown to customers on the object the
    email was for); `detail` is the technical cause, for operators. `permanent` ones are
    not retried (e.g. a rejected recipient)."""

    def __init__(self, reason: str, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.permanent = permanent


class Transport(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """One SMTP connection per message: simple, and nothing to keep alive or leak."""

    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.SMTP_HOST,
                port=s.SMTP_PORT,
                username=s.SMTP_USERNAME or None,
                password=s.SMTP_PASSWORD.get_secret_value() or None,
                start_tls=s.SMTP_STARTTLS,
                use_tls=s.SMTP_TLS,
                timeout=s.SMTP_TIMEOUT,
            )
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


class FileTransport:
    """Writes each message to OUTBOX_DIR/<message-id>.eml: the development default."""

    name = "file"

    def __init__(self, directory: Path, executor: BlockingExecutor) -> None:
        self._directory = directory
        self._executor = executor

    async def send(self, message: EmailMessage) -> None:
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        try:
            await self._executor.run(self._write, self._directory / f"{stem}.eml", bytes(message))
        except OSError as error:
            raise DeliveryError(
                "the email could not be written to the outbox folder",
                f"{type(error).__name__}: {error}",
            ) from error

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a message


def make_transport(settings: Settings, executor: BlockingExecutor) -> Transport:
    if settings.SMTP_HOST:
        return SmtpTransport(settings)
    return FileTransport(Path(settings.OUTBOX_DIR), executor)
