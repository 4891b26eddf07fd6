"""Every status change of an invitation, in one place.

    pending --sent--> sent --accepted--> accepted
       |  \\            |
       |   `--failed----+--> failed        (delivery gave up)
       +---revoked------+--> revoked       (by a person, or its vendor was deleted)
       `---expired------'--> expired       (the expiry job)
    resend: sent/failed/expired/pending --> pending, with a new token

Other modules call these functions and never set `status` themselves. Each change is a
conditional update on the state it leaves (and, for email outcomes, on the token the
email carried), so concurrent changes on any worker or host happen exactly once. Call
them inside the caller's transaction; they lock the invitation before touching its
outbox rows, the order every writer follows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from app.errors import Conflict, Gone
from app.invitations.models import OPEN_STATUSES, Invitation, InvitationStatus
from app.mail import outbox
from app.runtime.tokens import hash_token, same_hash
from app.vendors import flows as vendor_flows
from app.vendors.models import Vendor

UNUSABLE = "This invitation is no longer valid; ask for a new one"
OPEN_EXISTS = "This vendor already has an open invitation; resend it instead"
RESENDABLE = (*OPEN_STATUSES, InvitationStatus.FAILED, InvitationStatus.EXPIRED)
REVOCABLE = (*OPEN_STATUSES, InvitationStatus.FAILED)


def _now() -> datetime:
    return datetime.now(UTC)


async def opened(
    *,
    vendor: Vendor,
    email: str,
    message: str | None,
    token_hash: str,
    expires_at: datetime,
) -> Invitation:
    """A new pending invitation of a vendor's contact; the vendor becomes invited.

    The unique `open_vendor_id` refuses a second open invitation (IntegrityError, which
    the caller's transaction turns into Conflict)."""
    invitation = await Invitation.create(
        organization_id=vendor.organization_id,
        vendor_id=vendor.id,
        open_vendor_id=vendor.id,
        email=email,
        message=message,
        token_hash=token_hash,
        status=InvitationStatus.PENDING,
        expires_at=expires_at,
    )
    await vendor_flows.invited(vendor.id)
    return invitation


async def reissued(invitation: Invitation, token_hash: str, expires_at: datetime) -> None:
    """Resend: a new token (the old one stops working at once), pending again."""
    if invitation.status not in RESENDABLE:
        raise Conflict(f"An {invitation.status} invitation cannot be resent")
    await outbox.cancel_queued(invitation.id)
    invitation.token_hash = token_hash
    invitation.status = InvitationStatus.PENDING
    invitation.open_vendor_id = invitation.vendor_id
    invitation.failure_reason = None
    invitation.sent_at = None
    invitation.expires_at = expires_at
    await invitation.save()


async def sent(invitation_id: uuid.UUID, token_hash: str | None, at: datetime) -> bool:
    """Its email went out. Only the email carrying the current token counts."""
    changed = await Invitation.filter(
        id=invitation_id, token_hash=token_hash, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.SENT, sent_at=at)
    return bool(changed)


async def failed(invitation_id: uuid.UUID, token_hash: str | None, reason: str) -> bool:
    """Delivery of its current email was given up; `reason` is shown to the organisation."""
    changed = await Invitation.filter(
        id=invitation_id, token_hash=token_hash, status__in=OPEN_STATUSES
    ).update(status=InvitationStatus.FAILED, failure_reason=reason[:2000], open_vendor_id=None)
    return bool(changed)


async def revoked(invitation: Invitation) -> None:
    """Revoked by a person: its email stops, an invited vendor is a draft again."""
    if invitation.status not in REVOCABLE:
        raise Conflict(f"An {invitation.status} invitation cannot be revoked")
    await outbox.cancel_queued(invitation.id)
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = _now()
    invitation.open_vendor_id = None
    await invitation.save()
    await vendor_flows.uninvited(invitation.vendor_id)


async def vendor_deleted(vendor: Vendor) -> None:
    """Its vendor is being deleted: open invitations are revoked and their email stops."""
    now = _now()
    open_ids = cast(
        list[uuid.UUID],
        await Invitation.filter(vendor_id=vendor.id, status__in=REVOCABLE)
        .select_for_update()
        .values_list("id", flat=True),
    )
    for invitation_id in open_ids:
        await outbox.cancel_queued(invitation_id)
    if open_ids:
        await Invitation.filter(id__in=open_ids).update(
            status=InvitationStatus.REVOKED, revoked_at=now, open_vendor_id=None
        )


async def usable(token: str) -> Invitation:
    """The open, unexpired invitation for `token`, or Gone for anything else."""
    token_hash = hash_token(token)
    invitation = await Invitation.get_or_none(token_hash=token_hash)
    if invitation is None or not same_hash(invitation.token_hash, token_hash):
        raise Gone(UNUSABLE)
    if invitation.status not in OPEN_STATUSES or invitation.expires_at <= _now():
        raise Gone(UNUSABLE)
    return invitation


async def accepted(invitation: Invitation, at: datetime) -> None:
    """The single-use guarantee: of two concurrent accepts, exactly one changes the row;
    the other gets Gone. Queued copies of its email stop."""
    claimed = await Invitation.filter(
        id=invitation.id,
        token_hash=invitation.token_hash,
        status__in=OPEN_STATUSES,
        expires_at__gt=at,
    ).update(status=InvitationStatus.ACCEPTED, accepted_at=at, open_vendor_id=None)
    if not claimed:
        raise Gone(UNUSABLE)
    await outbox.cancel_queued(invitation.id)


async def expired(invitation_id: uuid.UUID, at: datetime) -> bool:
    """Past its expiry while open: expired, and its queued email stops."""
    changed = await Invitation.filter(
        id=invitation_id, status__in=OPEN_STATUSES, expires_at__lte=at
    ).update(status=InvitationStatus.EXPIRED, open_vendor_id=None)
    if changed:
        await outbox.cancel_queued(invitation_id)
    return bool(changed)
