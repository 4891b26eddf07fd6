"""The outbox table's operations: enqueue, claim with a lease, and record outcomes.

Claiming is the heart of "never twice": on PostgreSQL one UPDATE over a
`SELECT ... FOR UPDATE SKIP LOCKED` sub-select, so concurrent workers on any host take
disjoint rows; on SQLite a single conditional UPDATE (SQLite runs one writer at a time).
A claimed row carries a lease (`claimed_until`); if its worker dies, the lease runs out
and another worker claims it again.

Lock order: an outcome locks the owner's row (`MailKind.lock`) before the outbox row,
the order in which every owner writes (owner row, then `cancel_queued`), so the two never
deadlock on PostgreSQL.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import make_msgid
from enum import Enum
from typing import Any, cast

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.mail.kinds import Delivery, MailKind
from app.mail.models import OutboxEmail, OutboxStatus
from app.mail.sealing import Sealer
from app.runtime.clock import utc_now
from app.runtime.db import connection

_PG_CLAIM = """
UPDATE outbox_emails
   SET claimed_until = now() + make_interval(secs => $1),
       claim_token = $2,
       attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM outbox_emails
        WHERE status = 'queued'
          AND next_attempt_at <= now()
          AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY next_attempt_at, id
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
RETURNING id
"""


def delivery_of(row: OutboxEmail) -> Delivery:
    return Delivery(
        email_id=row.id,
        ref_id=row.ref_id,
        ref_version=row.ref_version,
        to_address=row.to_address,
        context=row.context,
        attempts=row.attempts,
    )


def new_message_id(mail_from: str) -> str:
    domain = mail_from.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return make_msgid(domain=domain)


class Outbox:
    """How the areas queue email: inside their own transaction, then `wake()` after it
    committed so this worker's dispatcher sends at once instead of at its next poll."""

    def __init__(self, sealer: Sealer, mail_from: str, wake: Callable[[], None]) -> None:
        self._sealer = sealer
        self._mail_from = mail_from
        self.wake = wake

    async def enqueue(
        self,
        *,
        kind: str,
        to_address: str,
        context: dict[str, Any],
        secret: str | None = None,
        ref_id: uuid.UUID | None = None,
        ref_version: str | None = None,
    ) -> OutboxEmail:
        """Queue an email. Call inside the transaction of the change that causes it."""
        return await OutboxEmail.create(
            kind=kind,
            ref_id=ref_id,
            ref_version=ref_version,
            to_address=to_address,
            message_id=new_message_id(self._mail_from),
            context=context,
            secret=self._sealer.seal(secret) if secret is not None else None,
            next_attempt_at=utc_now(),
        )


async def cancel_queued(ref_id: uuid.UUID) -> int:
    """Stop the queued emails of an object (its token changed, it was revoked or deleted).

    An email already on its way keeps its claim, so that its worker can still record
    that it was sent: the counts stay true, and its stale version changes nothing.
    """
    return await OutboxEmail.filter(ref_id=ref_id, status=OutboxStatus.QUEUED).update(
        status=OutboxStatus.CANCELLED, secret=None
    )


async def claim(batch_size: int, lease_seconds: float, *, postgres: bool) -> list[OutboxEmail]:
    """Lease up to `batch_size` due rows for this worker; nobody else gets them."""
    token = secrets.token_hex(16)
    if postgres:
        # execute_query_dict fetches rows (execute_query drops RETURNING for UPDATEs).
        rows = await connection().execute_query_dict(_PG_CLAIM, [lease_seconds, token, batch_size])
        if not rows:
            return []
    else:
        now = utc_now()
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        due = OutboxEmail.filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=now).filter(free)
        ids = (
            await due.order_by("next_attempt_at", "id")
            .limit(batch_size)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        claimed = (
            await OutboxEmail.filter(id__in=ids, status=OutboxStatus.QUEUED)
            .filter(free)
            .update(
                claimed_until=now + timedelta(seconds=lease_seconds),
                claim_token=token,
                attempts=F("attempts") + 1,
            )
        )
        if not claimed:
            return []
    # A row cancelled in between keeps its claim but is no longer ours to send.
    return await OutboxEmail.filter(claim_token=token, status=OutboxStatus.QUEUED).order_by(
        "next_attempt_at", "id"
    )


class SentOutcome(Enum):
    RECORDED = "recorded"
    """Sent and recorded; the owner heard of it."""
    CANCELLED_MEANWHILE = "cancelled_meanwhile"
    """Sent, recorded as sent, but its object had moved on (revoked, resent): the owner's
    state is not changed by a stale email."""
    LEASE_LOST = "lease_lost"
    """Sent, but the lease had run out and another worker owns the row now."""


async def mark_sent(row: OutboxEmail, kind: MailKind | None) -> SentOutcome:
    """Record that the email went out."""
    now = utc_now()
    delivery = delivery_of(row)
    async with in_transaction():
        if kind is not None:
            await kind.lock(delivery)
        statuses = cast(
            list[str],
            await OutboxEmail.filter(id=row.id, claim_token=row.claim_token)
            .select_for_update()
            .values_list("status", flat=True),
        )
        if not statuses:
            return SentOutcome.LEASE_LOST
        await OutboxEmail.filter(id=row.id).update(
            status=OutboxStatus.SENT, sent_at=now, claimed_until=None, claim_token=None, secret=None
        )
        if statuses[0] == OutboxStatus.CANCELLED:
            return SentOutcome.CANCELLED_MEANWHILE
        if kind is not None:
            await kind.sent(delivery, now)
    return SentOutcome.RECORDED


async def mark_cancelled(row: OutboxEmail, reason: str) -> None:
    """Its kind decided, just before sending, that it is not to be sent."""
    await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
        status=OutboxStatus.CANCELLED,
        claimed_until=None,
        claim_token=None,
        secret=None,
        last_error=reason[:2000],
    )


async def mark_retry(row: OutboxEmail, error: str, delay_seconds: float) -> None:
    """Try again later (a row cancelled meanwhile just lets go of its claim)."""
    await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
        next_attempt_at=utc_now() + timedelta(seconds=delay_seconds),
        claimed_until=None,
        claim_token=None,
        last_error=error[:2000],
    )


async def mark_failed(row: OutboxEmail, kind: MailKind | None, reason: str, detail: str) -> bool:
    """Give up on a row: `reason` (our wording) goes to the owner, `detail` (technical)
    stays on the row for operators. False if the row was cancelled or re-leased."""
    delivery = delivery_of(row)
    async with in_transaction():
        if kind is not None:
            await kind.lock(delivery)
        updated = await OutboxEmail.filter(
            id=row.id, claim_token=row.claim_token, status=OutboxStatus.QUEUED
        ).update(
            status=OutboxStatus.FAILED,
            claimed_until=None,
            claim_token=None,
            secret=None,
            last_error=detail[:2000],
        )
        if updated and kind is not None:
            await kind.failed(delivery, reason)
    return bool(updated)


async def requeue_failed(kinds: set[str], since: datetime | None = None) -> int:
    """Failed emails of these kinds (queued at or after `since`) go back to the queue as
    new: an operator's retry once the cause is fixed. Only for kinds whose token is made
    when the email is sent; a failed row holds no token any more (it is erased when
    delivery is given up), so other kinds are sent again by their owner instead."""
    rows = OutboxEmail.filter(status=OutboxStatus.FAILED, kind__in=sorted(kinds))
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return await rows.update(
        status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=utc_now(), last_error=None
    )


async def release(rows: list[OutboxEmail], *, attempted: bool) -> int:
    """Hand rows back to the queue (shutdown): another worker or a restart sends them."""
    released = 0
    for row in rows:
        changes: dict[str, Any] = {"claimed_until": None, "claim_token": None}
        if not attempted:
            changes["attempts"] = F("attempts") - 1
        released += await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
            **changes
        )
    return released


async def depth() -> dict[str, int]:
    """Queued and failed rows: what `/metrics` shows as the outbox depth."""
    return {
        "queued": await OutboxEmail.filter(status=OutboxStatus.QUEUED).count(),
        "failed": await OutboxEmail.filter(status=OutboxStatus.FAILED).count(),
    }
