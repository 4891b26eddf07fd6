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
import contextlib
import logging
import random
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from app.mail import outbox
from app.mail.models import OutboxEmail
from app.mail.sealing import Sealer, UnsealError
from app.mail.templates import invitation_link, render_invitation
from app.mail.transports import DeliveryError, Transport
from app.settings import Settings

logger = logging.getLogger("onramp.mail")


@dataclass
class DispatchStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    handed_back: int = 0


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base, 2 x base, 4 x base ... up to cap."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)


class Dispatcher:
    def __init__(self, settings: Settings, transport: Transport, sealer: Sealer) -> None:
        self._settings = settings
        self._transport = transport
        self._sealer = sealer
        self._wake = asyncio.Event()
        self.stats = DispatchStats()

    def wake(self) -> None:
        """Mail was queued by this worker: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """The supervised job. Returns once stopped and every claimed row is settled."""
        watcher = asyncio.create_task(self._wake_on(stop), name="mail.dispatcher.stop-watch")
        try:
            while not stop.is_set():
                try:
                    rows = await outbox.claim(
                        self._settings.DISPATCH_BATCH_SIZE,
                        self._settings.DISPATCH_LEASE_SECONDS,
                        postgres=self._settings.uses_postgres,
                    )
                except Exception:
                    logger.exception("claiming outbox rows failed; retrying after a pause")
                    rows = []
                if rows:
                    await self._deliver_batch(rows, stop)
                    continue  # more may be due already
                self._wake.clear()
                if stop.is_set():  # the stop signal's wake-up may just have been cleared
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.DISPATCH_POLL_INTERVAL)
        finally:
            watcher.cancel()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _deliver_batch(self, rows: list[OutboxEmail], stop: asyncio.Event) -> None:
        limit = asyncio.Semaphore(self._settings.DISPATCH_CONCURRENCY)
        not_started: list[OutboxEmail] = []

        async def deliver_one(row: OutboxEmail) -> None:
            async with limit:
                if stop.is_set():
                    not_started.append(row)
                    return
                await self._deliver(row)

        tasks = {
            asyncio.create_task(deliver_one(row), name=f"mail.send.{row.id}"): row for row in rows
        }
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
        if not_started or interrupted:
            handed_back = await outbox.release(not_started, attempted=False)
            handed_back += await outbox.release(interrupted, attempted=True)
            self.stats.handed_back += handed_back
            logger.info("handed back %d claimed email(s) to the queue", handed_back)

    async def _deliver(self, row: OutboxEmail) -> None:
        try:
            try:
                message = self._render(row)
            except UnsealError as error:
                raise DeliveryError(str(error), permanent=True) from error
            await self._transport.send(message)
        except DeliveryError as error:
            await self._record_failure(row, error)
            return
        except Exception as error:  # a bug or an unexpected transport error: retry later
            logger.exception("sending outbox row %s failed unexpectedly", row.id)
            await self._record_failure(row, DeliveryError(repr(error)))
            return
        if await outbox.mark_sent(row):
            self.stats.sent += 1
        else:
            # Our claim is gone: the invitation was revoked or resent while this email
            # was on its way (its token is then dead), or the lease ran out.
            logger.warning(
                "outbox row %s was sent, but meanwhile it was cancelled or its lease expired",
                row.id,
            )

    async def _record_failure(self, row: OutboxEmail, error: DeliveryError) -> None:
        s = self._settings
        if error.permanent or row.attempts >= s.DISPATCH_MAX_ATTEMPTS:
            await outbox.mark_failed(row, str(error))
            self.stats.failed += 1
            logger.warning("outbox row %s failed for good: %s", row.id, error)
            return
        delay = backoff_seconds(row.attempts, s.DISPATCH_BACKOFF_BASE, s.DISPATCH_BACKOFF_MAX)
        await outbox.mark_retry(row, str(error), delay)
        self.stats.retried += 1
        logger.info("outbox row %s: %s; retry in %.1fs", row.id, error, delay)

    def _render(self, row: OutboxEmail) -> EmailMessage:
        if row.kind != outbox.INVITATION_KIND or row.secret is None:
            raise DeliveryError(f"cannot render outbox row of kind {row.kind!r}", permanent=True)
        token = self._sealer.unseal(row.secret)
        return render_invitation(
            context=row.context,
            link=invitation_link(self._settings.PUBLIC_BASE_URL, token),
            mail_from=self._settings.MAIL_FROM,
            to=row.to_address,
            message_id=row.message_id,
        )
