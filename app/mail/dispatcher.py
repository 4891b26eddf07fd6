"""The email dispatcher: one per worker, run by the task supervisor.

It claims due outbox rows (leased), sends them with bounded concurrency, and records
each outcome: sent, retried later (exponential backoff with jitter) or failed. It wakes
when its worker queues mail and otherwise polls. On stop it claims nothing more, lets
in-flight sends finish for up to DISPATCH_DRAIN_TIMEOUT, and hands every other claimed
row back to the queue, so a restart (or another worker) sends it. It uses its own
connections through Tortoise's pool, never a request's.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from app.mail import outbox
from app.mail.kinds import Cancel, MailKind, MailKinds
from app.mail.models import OutboxEmail
from app.mail.sealing import Sealer, UnsealError
from app.mail.transports import DeliveryError, Sender, Transport
from app.runtime.jobs import wait_at_most
from app.runtime.outages import OncePer, outage_kind
from app.settings import Settings

logger = logging.getLogger("onramp.mail")

JOB_NAME = "mail.dispatcher"


@dataclass
class DispatchStats:
    sent: int = 0
    sent_after_cancel: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    handed_back: int = 0


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base, 2 x base, 4 x base ... up to cap."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)


class Dispatcher:
    def __init__(
        self, settings: Settings, transport: Transport, sealer: Sealer, kinds: MailKinds
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._sealer = sealer
        self._kinds = kinds
        self._outages = OncePer(logger)
        self._wake: asyncio.Event | None = None
        self.stats = DispatchStats()

    def wake(self) -> None:
        """Mail was queued by this worker: look now instead of at the next poll."""
        if self._wake is not None:
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """The supervised job. Returns once stopped and every claimed row is settled."""
        self._wake = wake = asyncio.Event()
        self.stats = DispatchStats()
        watcher = asyncio.create_task(self._wake_on(stop, wake), name=f"{JOB_NAME}.stop-watch")
        failures = 0
        try:
            while not stop.is_set():
                try:
                    rows = await outbox.claim(
                        self._settings.DISPATCH_BATCH_SIZE,
                        self._settings.DISPATCH_LEASE_SECONDS,
                        postgres=self._settings.uses_postgres,
                    )
                    failures = 0
                except Exception as error:
                    failures += 1
                    pause = backoff_seconds(failures, self._settings.DISPATCH_POLL_INTERVAL, 30.0)
                    outage = outage_kind(error)
                    if outage is not None:  # waiting it out, not a bug: no traceback
                        self._outages.warning(
                            outage, f"database unavailable ({outage}): email waits in the queue"
                        )
                    else:
                        logger.exception("claiming outbox rows failed; retrying in %.1fs", pause)
                    await wait_at_most(stop, pause)  # back off: never spin during an outage
                    continue
                if rows:
                    await self._deliver_batch(rows, stop)
                    continue  # more may be due already
                wake.clear()
                if stop.is_set():  # the stop signal's wake-up may just have been cleared
                    break
                await wait_at_most(wake, self._settings.DISPATCH_POLL_INTERVAL)
        finally:
            watcher.cancel()
            self._wake = None

    @staticmethod
    async def _wake_on(stop: asyncio.Event, wake: asyncio.Event) -> None:
        await stop.wait()
        wake.set()

    async def _deliver_batch(self, rows: list[OutboxEmail], stop: asyncio.Event) -> None:
        limit = asyncio.Semaphore(self._settings.DISPATCH_CONCURRENCY)
        not_started: list[OutboxEmail] = []

        async with self._transport.session() as sender:  # connections reused in the batch

            async def deliver_one(row: OutboxEmail) -> None:
                async with limit:
                    if stop.is_set():
                        not_started.append(row)
                        return
                    await self._deliver(row, sender)

            tasks = {asyncio.create_task(deliver_one(row), name="mail.send"): row for row in rows}
            stopped: asyncio.Future[Any] = asyncio.create_task(stop.wait())
            pending: set[asyncio.Future[Any]] = set(tasks)
            try:
                while pending and not stop.is_set():
                    _, still = await asyncio.wait(
                        pending | {stopped}, return_when=asyncio.FIRST_COMPLETED
                    )
                    pending = {task for task in still if task is not stopped}
                if pending:
                    # Stopping: in-flight sends get a bounded time to finish.
                    await asyncio.wait(pending, timeout=self._settings.DISPATCH_DRAIN_TIMEOUT)
            finally:
                stopped.cancel()
            interrupted = [row for task, row in tasks.items() if not task.done()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not_started or interrupted:  # before the session's connections close
                handed_back = await outbox.release(not_started, attempted=False)
                handed_back += await outbox.release(interrupted, attempted=True)
                self.stats.handed_back += handed_back
                logger.info("handed back %d claimed email(s) to the queue", handed_back)

    async def _deliver(self, row: OutboxEmail, sender: Sender) -> None:
        kind = self._kinds.get(row.kind)
        try:
            message = await self._message(row, kind)
        except Cancel as cancelled:
            await outbox.mark_cancelled(row, cancelled.reason)
            self.stats.cancelled += 1
            return
        except DeliveryError as error:
            await self._record_failure(row, kind, error)
            return
        except Exception as error:  # a bug, or the database failing mid-prepare: retry
            logger.exception("preparing outbox row %s failed unexpectedly", row.id)
            failure = DeliveryError(
                "the email could not be prepared", f"{type(error).__name__}: {error}"
            )
            await self._record_failure(row, kind, failure)
            return
        try:
            await sender.send(message)
        except DeliveryError as error:
            await self._record_failure(row, kind, error)
            return
        except Exception as error:  # a bug or an unexpected transport error: retry later
            logger.exception("sending outbox row %s failed unexpectedly", row.id)
            failure = DeliveryError(
                "sending failed for an unexpected reason", f"{type(error).__name__}: {error}"
            )
            await self._record_failure(row, kind, failure)
            return
        outcome = await outbox.mark_sent(row, kind)
        if outcome is outbox.SentOutcome.RECORDED:
            self.stats.sent += 1
        elif outcome is outbox.SentOutcome.CANCELLED_MEANWHILE:
            self.stats.sent_after_cancel += 1
            logger.info("outbox row %s was sent; its %s had moved on meanwhile", row.id, row.kind)
        else:
            logger.warning("outbox row %s was sent after its lease ran out", row.id)

    async def _record_failure(
        self, row: OutboxEmail, kind: MailKind | None, error: DeliveryError
    ) -> None:
        s = self._settings
        if error.permanent or row.attempts >= s.DISPATCH_MAX_ATTEMPTS:
            reason = f"delivery failed after {row.attempts} attempt(s): {error.reason}"
            if await outbox.mark_failed(row, kind, reason, error.detail):
                self.stats.failed += 1
                logger.warning("outbox row %s failed for good: %s", row.id, error.detail)
            return
        delay = backoff_seconds(row.attempts, s.DISPATCH_BACKOFF_BASE, s.DISPATCH_BACKOFF_MAX)
        await outbox.mark_retry(row, error.detail, delay)
        self.stats.retried += 1
        logger.info("outbox row %s: %s; retry in %.1fs", row.id, error.detail, delay)

    async def _message(self, row: OutboxEmail, kind: MailKind | None) -> EmailMessage:
        if kind is None:
            raise DeliveryError(
                "this kind of email can no longer be sent",
                f"no mail kind {row.kind!r} is registered",
                permanent=True,
            )
        try:
            sealed = self._sealer.unseal(row.secret) if row.secret is not None else None
        except UnsealError as error:
            raise DeliveryError(
                "the email's link could not be restored (the server's key changed)",
                str(error),
                permanent=True,
            ) from error
        delivery = outbox.delivery_of(row)
        secret = await kind.prepare(delivery, sealed)
        content = kind.render(delivery, secret)
        message = EmailMessage()
        message["Subject"] = content.subject
        message["From"] = self._settings.MAIL_FROM
        message["To"] = row.to_address
        message["Message-ID"] = row.message_id
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        return message
