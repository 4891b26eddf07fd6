"""Every status change of an invitation, in one place.

    pending --sent--> sent --accepted--> accepted
       |  \\            |
       |   `--failed----+--> failed        (delivery gave up)
       +---revoked------+--> revoked       (by a person, or its vendor was closed)
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
from datetime import datetime
from typing import cast

from app.accounts.roles import Role
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.errors import Conflict, Gone
from app.fields import email_key
from app.invitations.models import OPEN_STATUSES, Invitation, InvitationKind, InvitationStatus
from app.mail import outbox
from app.runtime.clock import utc_now
from app.runtime.tokens import hash_token, same_hash
from app.vendors import flows as vendor_flows
from app.vendors.models import Vendor

UNUSABLE = "This invitation is no longer valid; ask for a new one"
OPEN_EXISTS = "This vendor already has an open invitation; resend it instead"
TEAMMATE_OPEN_EXISTS = "This address already has an open invitation; resend it instead"
# What an invitation that is not open holds in its "open" columns (see the model).
CLOSED = {"open_vendor_id": None, "open_email": None}
RESENDABLE = (*OPEN_STATUSES, InvitationStatus.FAILED, InvitationStatus.EXPIRED)
REVOCABLE = (*OPEN_STATUSES, InvitationStatus.FAILED)


async def _audit(
    action: Action,
    invitation_id: uuid.UUID,
    organization_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    old: InvitationStatus | None,
    new: InvitationStatus,
) -> None:
    await record(
        action,
        organization_id=organization_id,
        target_type=TargetType.INVITATION,
        target_id=invitation_id,
        actor_id=actor_id,
        changes={"status": [old.value if old else None, new.value]},
    )


def _open_columns(invitation: Invitation) -> dict[str, object]:
    """The "open" columns of an open invitation: its vendor, or its address."""
    if invitation.kind is InvitationKind.VENDOR:
        return {"open_vendor_id": invitation.vendor_id, "open_email": None}
    return {"open_vendor_id": None, "open_email": email_key(invitation.email)}


async def opened(
    *,
    organization_id: uuid.UUID,
    vendor: Vendor | None,
    role: Role,
    email: str,
    message: str | None,
    token_hash: str,
    expires_at: datetime,
    invited_by: uuid.UUID,
) -> Invitation:
    """A new pending invitation: of a vendor's contact (the vendor becomes invited), or,
    without a vendor, of a teammate in `role`.

    The unique open columns refuse a second open invitation of the same vendor, or of
    the same address in the organisation (IntegrityError, which the caller's
    transaction turns into Conflict)."""
    kind = InvitationKind.VENDOR if vendor is not None else InvitationKind.TEAMMATE
    invitation = Invitation(
        organization_id=organization_id,
        vendor_id=vendor.id if vendor is not None else None,
        kind=kind,
        role=Role.VENDOR if vendor is not None else role,
        email=email,
        message=message,
        token_hash=token_hash,
        status=InvitationStatus.PENDING,
        expires_at=expires_at,
        invited_by_id=invited_by,
    )
    for column, value in _open_columns(invitation).items():
        setattr(invitation, column, value)
    await invitation.save()
    if vendor is not None:
        await vendor_flows.invited(vendor.id)
    await record(
        Action.INVITATION_CREATED,
        organization_id=organization_id,
        target_type=TargetType.INVITATION,
        target_id=invitation.id,
        actor_id=invited_by,
        changes={
            "status": [None, InvitationStatus.PENDING.value],
            "kind": [None, kind.value],
            "role": [None, invitation.role.value],
            "email": [None, email],
            "vendor_id": [None, str(vendor.id) if vendor is not None else None],
        },
    )
    return invitation


async def reissued(
    invitation: Invitation, token_hash: str, expires_at: datetime, actor_id: uuid.UUID | None
) -> None:
    """Resend: a new token (the old one stops working at once), pending again."""
    if invitation.status not in RESENDABLE:
        raise Conflict(f"An {invitation.status} invitation cannot be resent")
    await outbox.cancel_queued(invitation.id)
    old = invitation.status
    invitation.token_hash = token_hash
    invitation.status = InvitationStatus.PENDING
    for column, value in _open_columns(invitation).items():
        setattr(invitation, column, value)
    invitation.update_from_dict({"failure_reason": None})  # (typed as the text it holds)
    invitation.sent_at = None
    invitation.expires_at = expires_at
    await invitation.save()
    await _audit(
        Action.INVITATION_RESENT,
        invitation.id,
        invitation.organization_id,
        actor_id,
        old,
        InvitationStatus.PENDING,
    )


async def _organization_of(invitation_id: uuid.UUID) -> uuid.UUID:
    return cast(
        uuid.UUID,
        await Invitation.filter(id=invitation_id).first().values_list("organization_id", flat=True),
    )


async def sent(invitation_id: uuid.UUID, token_hash: str | None, at: datetime) -> bool:
    """Its email went out. Only the email carrying the current token counts."""
    changed = await Invitation.filter(
        id=invitation_id, token_hash=token_hash, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.SENT, sent_at=at)
    if changed:
        await _audit(
            Action.INVITATION_SENT,
            invitation_id,
            await _organization_of(invitation_id),
            None,
            InvitationStatus.PENDING,
            InvitationStatus.SENT,
        )
    return bool(changed)


async def failed(invitation_id: uuid.UUID, token_hash: str | None, reason: str) -> bool:
    """Delivery of its current email was given up; `reason` is shown to the organisation."""
    current = await Invitation.get_or_none(
        id=invitation_id, token_hash=token_hash, status__in=OPEN_STATUSES
    )
    if current is None:
        return False
    changed = await Invitation.filter(
        id=invitation_id, token_hash=token_hash, status=current.status
    ).update(status=InvitationStatus.FAILED, failure_reason=reason[:2000], **CLOSED)
    if changed:
        await _audit(
            Action.INVITATION_FAILED,
            invitation_id,
            current.organization_id,
            None,
            current.status,
            InvitationStatus.FAILED,
        )
    return bool(changed)


async def revoked(invitation: Invitation, actor_id: uuid.UUID | None) -> None:
    """Revoked by a person: its email stops, an invited vendor is a draft again."""
    if invitation.status not in REVOCABLE:
        raise Conflict(f"An {invitation.status} invitation cannot be revoked")
    await outbox.cancel_queued(invitation.id)
    old = invitation.status
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = utc_now()
    for column, value in CLOSED.items():
        setattr(invitation, column, value)
    await invitation.save()
    if invitation.vendor_id is not None:
        await vendor_flows.uninvited(invitation.vendor_id)
    await _audit(
        Action.INVITATION_REVOKED,
        invitation.id,
        invitation.organization_id,
        actor_id,
        old,
        InvitationStatus.REVOKED,
    )


async def vendor_closed(vendor: Vendor, actor_id: uuid.UUID | None) -> None:
    """Its vendor is being deleted, suspended or archived: open invitations are revoked
    and their queued email stops (the vendor's status is the caller's business)."""
    now = utc_now()
    rows = await Invitation.filter(vendor_id=vendor.id, status__in=REVOCABLE).select_for_update()
    for invitation in rows:
        await outbox.cancel_queued(invitation.id)
        await Invitation.filter(id=invitation.id).update(
            status=InvitationStatus.REVOKED, revoked_at=now, **CLOSED
        )
        await _audit(
            Action.INVITATION_REVOKED,
            invitation.id,
            invitation.organization_id,
            actor_id,
            invitation.status,
            InvitationStatus.REVOKED,
        )


async def usable(token: str) -> Invitation:
    """The open, unexpired invitation for `token`, or Gone for anything else."""
    token_hash = hash_token(token)
    invitation = await Invitation.get_or_none(token_hash=token_hash)
    if invitation is None or not same_hash(invitation.token_hash, token_hash):
        raise Gone(UNUSABLE)
    if invitation.status not in OPEN_STATUSES or invitation.expires_at <= utc_now():
        raise Gone(UNUSABLE)
    return invitation


async def claimed(invitation: Invitation, at: datetime) -> None:
    """The single-use guarantee: of two concurrent accepts, exactly one changes the row;
    the other gets Gone before anything else happens. Queued copies of its email stop.
    The person then joins in the same transaction, and `accepted` records who did."""
    claimed = await Invitation.filter(
        id=invitation.id,
        token_hash=invitation.token_hash,
        status__in=OPEN_STATUSES,
        expires_at__gt=at,
    ).update(status=InvitationStatus.ACCEPTED, accepted_at=at, **CLOSED)
    if not claimed:
        raise Gone(UNUSABLE)
    await outbox.cancel_queued(invitation.id)


async def accepted(invitation: Invitation, user_id: uuid.UUID) -> None:
    """The claimed invitation was accepted by `user_id`, now a member (the event)."""
    await _audit(
        Action.INVITATION_ACCEPTED,
        invitation.id,
        invitation.organization_id,
        user_id,
        invitation.status,
        InvitationStatus.ACCEPTED,
    )


async def expired(invitation_id: uuid.UUID, at: datetime) -> bool:
    """Past its expiry while open: expired, and its queued email stops."""
    current = await Invitation.get_or_none(
        id=invitation_id, status__in=OPEN_STATUSES, expires_at__lte=at
    )
    if current is None:
        return False
    changed = await Invitation.filter(
        id=invitation_id, status=current.status, expires_at__lte=at
    ).update(status=InvitationStatus.EXPIRED, **CLOSED)
    if changed:
        await outbox.cancel_queued(invitation_id)
        await _audit(
            Action.INVITATION_EXPIRED,
            invitation_id,
            current.organization_id,
            None,
            current.status,
            InvitationStatus.EXPIRED,
        )
    return bool(changed)
