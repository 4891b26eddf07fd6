"""SMTP connections reused within a dispatcher batch, against a real SMTP server
(aiosmtpd on loopback): fewer connections, and still one message's failure is only
that message's."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest

from app.mail.transports import DeliveryError, SmtpTransport
from app.settings import Settings
from tests.support.smtp import SmtpServer, smtp_settings

pytestmark = pytest.mark.any_backend  # the database is incidental here


def message(n: int, to: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Onramp <no-reply@onramp.example.com>"
    mail["To"] = to or f"person{n}@example.com"
    mail["Subject"] = f"Message {n}"
    mail["Message-ID"] = f"<m{n}@onramp.test>"
    mail.set_content(f"Body {n}")
    return mail


def transport(settings: Settings, smtp: SmtpServer, **changes: object) -> SmtpTransport:
    return SmtpTransport(settings.replace(**smtp_settings(smtp.port), **changes))


def test_a_batch_shares_its_connections_and_quits_them(settings: Settings) -> None:
    async def batch(smtp: SmtpServer) -> None:
        async with transport(settings, smtp).session() as sender:
            for n in range(10):  # one after another: one connection
                await sender.send(message(n))
            await asyncio.gather(*(sender.send(message(n)) for n in range(10, 30)))

    with SmtpServer() as smtp:
        asyncio.run(batch(smtp))
        assert len(smtp.messages) == 30
        # 1 for the first ten; at most one more per message in flight at once after.
        assert 1 <= len(smtp.recorder.connections) <= 20
        assert smtp.recorder.quits == len(smtp.recorder.connections)  # all closed politely


def test_one_refused_recipient_fails_only_its_own_message(settings: Settings) -> None:
    async def batch(smtp: SmtpServer) -> list[object]:
        async with transport(settings, smtp).session() as sender:
            return await asyncio.gather(
                *(
                    sender.send(message(n, "nobody@example.com" if n == 2 else None))
                    for n in range(5)
                ),
                return_exceptions=True,
            )

    with SmtpServer(refuse=frozenset({"nobody@example.com"})) as smtp:
        outcomes = asyncio.run(batch(smtp))
        failed = [o for o in outcomes if o is not None]
        assert len(failed) == 1
        assert isinstance(failed[0], DeliveryError)
        assert failed[0].permanent
        assert outcomes[2] is failed[0]
        assert sorted(str(m["To"]) for m in smtp.messages) == [
            f"person{n}@example.com" for n in (0, 1, 3, 4)
        ]


def test_a_connection_the_server_dropped_while_idle_is_replaced(settings: Settings) -> None:
    async def batch(smtp: SmtpServer) -> None:
        async with transport(settings, smtp).session() as sender:
            await sender.send(message(1))
            (first,) = smtp.recorder.connections
            while first not in smtp.recorder.ended:  # until the server hangs up on it, idle
                await asyncio.sleep(0.01)
            await sender.send(message(2))  # not this message's fault: sent on a new one

    with SmtpServer(idle_timeout=0.3) as smtp:
        asyncio.run(batch(smtp))
        assert [str(m["Subject"]) for m in smtp.messages] == ["Message 1", "Message 2"]
        assert len(smtp.recorder.connections) == 2


def test_a_connection_is_renewed_after_its_share_of_messages(settings: Settings) -> None:
    async def batch(smtp: SmtpServer) -> None:
        async with transport(settings, smtp, SMTP_MESSAGES_PER_CONNECTION=3).session() as sender:
            for n in range(7):
                await sender.send(message(n))

    with SmtpServer() as smtp:
        asyncio.run(batch(smtp))
        assert len(smtp.messages) == 7
        assert len(smtp.recorder.connections) == 3  # 3 + 3 + 1
        assert smtp.recorder.quits == 3


def test_a_server_that_is_down_fails_the_message_as_unreachable(settings: Settings) -> None:
    async def batch(port: int) -> None:
        changed = settings.replace(**smtp_settings(port))
        async with SmtpTransport(changed).session() as sender:
            await sender.send(message(1))

    with SmtpServer() as smtp:
        port = smtp.port
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(batch(port))
    assert caught.value.reason == "the mail server could not be reached"
    assert not caught.value.permanent
