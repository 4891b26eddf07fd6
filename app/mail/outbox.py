"""The outbox table's operations: enqueue, claim with a lease, and record outcomes.

Claiming is the heart of "never twice": on PostgreSQL one UPDATE over a
`SELECT ... FOR UPDATE SKIP LOCKED` sub-select, so concurrent workers on any host take
disjoint rows; on SQLite a single conditional UPDATE (SQLite runs one writer at a time).
A claimed row carries a lease (`claimed_until`); if its worker dies, the lease runs out
and another worker claims it again.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.invitations.models import Invitation, InvitationStatus
from app.mail.models import OutboxEmail, OutboxStatus

INVITATION_KIND = "invitation"

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


def _now() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    *,
    kind: str,
    to_address: str,
    message_id: str,
    context: dict[str, Any],
    sealed_secret: str | None,
    invitation_id: uuid.UUID | None,
) -> OutboxEmail:
    """Queue an email. Call inside the transaction of the change that causes it."""
    return await OutboxEmail.create(
        kind=kind,
        to_address=to_address,
        message_id=message_id,
        context=context,
        secret=sealed_secret,
        invitation_id=invitation_id,
        next_attempt_at=_now(),
    )


async def cancel_queued(invitation_id: uuid.UUID) -> int:
    """Stop queued emails of an invitation (its token changed or it was revoked)."""
    return await OutboxEmail.filter(invitation_id=invitation_id, status=OutboxStatus.QUEUED).update(
        status=OutboxStatus.CANCELLED, secret=None, claimed_until=None, claim_token=None
    )


async def claim(batch_size: int, lease_seconds: float, *, postgres: bool) -> list[OutboxEmail]:
    """Lease up to `batch_size` due rows for this worker; nobody else gets them."""
    token = secrets.token_hex(16)
    if postgres:
        connection = Tortoise.get_connection("default")
        # execute_query_dict fetches rows (execute_query drops RETURNING for UPDATEs).
        rows = await connection.execute_query_dict(_PG_CLAIM, [lease_seconds, token, batch_size])
        if not rows:
            return []
    else:
        now = _now()
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
    return await OutboxEmail.filter(claim_token=token).order_by("next_attempt_at", "id")


async def _lock_invitation(row: OutboxEmail) -> None:
    """Lock the invitation before its outbox rows, the order every other writer uses
    (resend, revoke, accept, expiry), so the two never deadlock on PostgreSQL."""
    if row.invitation_id is not None:
        await Invitation.filter(id=row.invitation_id).select_for_update().first()


async def mark_sent(row: OutboxEmail) -> bool:
    """Record delivery; False if our lease was lost meanwhile (someone else owns it)."""
    now = _now()
    async with in_transaction():
        await _lock_invitation(row)
        updated = await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
            status=OutboxStatus.SENT, sent_at=now, claimed_until=None, claim_token=None, secret=None
        )
        if updated and row.invitation_id is not None:
            await Invitation.filter(id=row.invitation_id, status=InvitationStatus.PENDING).update(
                status=InvitationStatus.SENT, sent_at=now
            )
    return bool(updated)


async def mark_retry(row: OutboxEmail, error: str, delay_seconds: float) -> None:
    await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
        next_attempt_at=_now() + timedelta(seconds=delay_seconds),
        claimed_until=None,
        claim_token=None,
        last_error=error[:2000],
    )


async def mark_failed(row: OutboxEmail, reason: str) -> None:
    """Give up on a row; its invitation shows `failed` and why."""
    async with in_transaction():
        await _lock_invitation(row)
        updated = await OutboxEmail.filter(id=row.id, claim_token=row.claim_token).update(
            status=OutboxStatus.FAILED,
            claimed_until=None,
            claim_token=None,
            secret=None,
            last_error=reason[:2000],
        )
        if updated and row.invitation_id is not None:
            await Invitation.filter(
                id=row.invitation_id,
                status__in=(InvitationStatus.PENDING, InvitationStatus.SENT),
            ).update(
                status=InvitationStatus.FAILED,
                failure_reason=f"delivery failed after {row.attempts} attempt(s): {reason}"[:2000],
                open_vendor_id=None,
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
