"""Invitation rules: create, resend, revoke, look up, accept, expire.

Tokens are 32 random bytes (URL-safe), stored only as their SHA-256 hash, and compared
in constant time. Every change that sends an email writes the outbox row in the same
transaction, so an invitation never exists without its email, nor an email without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.accounts.models import Membership, Organization, Role, User
from app.accounts.service import Accounts, organization_out, user_out
from app.accounts.tokens import Principal
from app.http.errors import Conflict, Gone, NotFound
from app.invitations.models import OPEN_STATUSES, Invitation, InvitationStatus
from app.invitations.schemas import (
    INVITATION_FIELDS,
    AcceptIn,
    InvitationCreate,
    InvitationListQuery,
)
from app.lifecycle.db import runs_to_completion
from app.mail import outbox
from app.mail.sealing import Sealer
from app.mail.templates import new_message_id
from app.pagination import after_cursor, page
from app.settings import Settings
from app.vendors import service as vendors
from app.vendors.models import Vendor, VendorStatus

TOKEN_BYTES = 32
_UNUSABLE = "This invitation is no longer valid; ask for a new one"
_OPEN_EXISTS = "This vendor already has an open invitation; resend it instead"


@dataclass(frozen=True)
class MailContext:
    """What queuing an invitation email needs from the worker."""

    settings: Settings
    sealer: Sealer


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scoped(principal: Principal) -> QuerySet[Invitation]:
    """Invitations of the caller's organisation only (tenant isolation)."""
    return Invitation.filter(organization_id=principal.organization_id)


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {field: getattr(invitation, field) for field in INVITATION_FIELDS}


async def _queue_email(
    invitation: Invitation, token: str, vendor: Vendor, mail: MailContext
) -> None:
    organization = await Organization.get(id=invitation.organization_id)
    await outbox.enqueue(
        kind=outbox.INVITATION_KIND,
        to_address=invitation.email,
        message_id=new_message_id(mail.settings.MAIL_FROM),
        context={
            "organization_name": organization.name,
            "vendor_name": vendor.name,
            "message": invitation.message,
            "expires_at": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
        sealed_secret=mail.sealer.seal(token),
        invitation_id=invitation.id,
    )


@runs_to_completion
async def create(
    principal: Principal, vendor_id: uuid.UUID, data: InvitationCreate, mail: MailContext
) -> dict[str, Any]:
    token, token_hash = new_token()
    try:
        async with in_transaction():
            vendor = await vendors.scoped(principal).get_or_none(id=vendor_id)
            if vendor is None:
                raise NotFound("Vendor not found")
            if vendor.status in (VendorStatus.ARCHIVED, VendorStatus.SUSPENDED):
                raise Conflict(f"A {vendor.status} vendor cannot be invited")
            invitation = await Invitation.create(
                organization_id=principal.organization_id,
                vendor_id=vendor.id,
                open_vendor_id=vendor.id,
                email=data.email or vendor.contact_email,
                message=data.message,
                token_hash=token_hash,
                status=InvitationStatus.PENDING,
                expires_at=datetime.now(UTC)
                + timedelta(seconds=mail.settings.INVITATION_TTL_SECONDS),
            )
            if vendor.status == VendorStatus.DRAFT:
                vendor.status = VendorStatus.INVITED
                await vendor.save(update_fields=["status", "updated_at"])
            await _queue_email(invitation, token, vendor, mail)
    except IntegrityError:  # the unique open_vendor_id: another open invitation exists
        raise Conflict(_OPEN_EXISTS) from None
    return invitation_out(invitation)


async def list_for_vendor(
    principal: Principal, vendor_id: uuid.UUID, query: InvitationListQuery
) -> dict[str, Any]:
    if not await vendors.scoped(principal).filter(id=vendor_id).exists():
        raise NotFound("Vendor not found")
    rows = after_cursor(scoped(principal).filter(vendor_id=vendor_id), query.cursor)
    fetched = await (
        rows.order_by("-created_at", "-id").limit(query.limit + 1).values(*INVITATION_FIELDS)
    )
    return page(fetched, query.limit)


@runs_to_completion
async def resend(
    principal: Principal, invitation_id: uuid.UUID, mail: MailContext
) -> dict[str, Any]:
    """A new token and a new email; the old token stops working at once."""
    token, token_hash = new_token()
    try:
        async with in_transaction():
            invitation = await scoped(principal).select_for_update().get_or_none(id=invitation_id)
            if invitation is None:
                raise NotFound("Invitation not found")
            if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
                raise Conflict(f"An {invitation.status} invitation cannot be resent")
            vendor = await Vendor.get(id=invitation.vendor_id)
            await outbox.cancel_queued(invitation.id)
            invitation.token_hash = token_hash
            invitation.status = InvitationStatus.PENDING
            invitation.open_vendor_id = invitation.vendor_id
            invitation.failure_reason = None
            invitation.sent_at = None
            invitation.expires_at = datetime.now(UTC) + timedelta(
                seconds=mail.settings.INVITATION_TTL_SECONDS
            )
            await invitation.save()
            await _queue_email(invitation, token, vendor, mail)
    except IntegrityError:
        raise Conflict(_OPEN_EXISTS) from None
    return invitation_out(invitation)


@runs_to_completion
async def revoke(principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
    async with in_transaction():
        invitation = await scoped(principal).select_for_update().get_or_none(id=invitation_id)
        if invitation is None:
            raise NotFound("Invitation not found")
        if invitation.status not in OPEN_STATUSES and invitation.status != InvitationStatus.FAILED:
            raise Conflict(f"An {invitation.status} invitation cannot be revoked")
        await outbox.cancel_queued(invitation.id)
        invitation.status = InvitationStatus.REVOKED
        invitation.revoked_at = datetime.now(UTC)
        invitation.open_vendor_id = None
        await invitation.save()
        await Vendor.filter(id=invitation.vendor_id, status=VendorStatus.INVITED).update(
            status=VendorStatus.DRAFT
        )
    return invitation_out(invitation)


async def _usable(token: str) -> Invitation:
    """The open, unexpired invitation for `token`, or 410 for anything else."""
    token_hash = hash_token(token)
    invitation = await Invitation.get_or_none(token_hash=token_hash)
    if invitation is None or not hmac.compare_digest(invitation.token_hash, token_hash):
        raise Gone(_UNUSABLE)
    if invitation.status not in OPEN_STATUSES or invitation.expires_at <= datetime.now(UTC):
        raise Gone(_UNUSABLE)
    return invitation


async def lookup(token: str) -> dict[str, Any]:
    invitation = await _usable(token)
    organization = await Organization.get(id=invitation.organization_id)
    vendor = await Vendor.get(id=invitation.vendor_id)
    return {
        "organization_name": organization.name,
        "vendor_name": vendor.name,
        "email": invitation.email,
        "expires_at": invitation.expires_at,
    }


@runs_to_completion
async def accept(data: AcceptIn, accounts: Accounts) -> dict[str, Any]:
    """Create the contact's login and activate the vendor, once, all or nothing."""
    accounts.check_password_strength(data.password)
    invitation = await _usable(data.token)
    if await User.exists(email=invitation.email):
        raise Conflict("An account with this email already exists; sign in instead")
    password_hash = await accounts.hash_password(data.password)
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            # The conditional update is the single-use guarantee: of two concurrent
            # accepts, exactly one changes the row.
            claimed = await Invitation.filter(
                id=invitation.id,
                token_hash=invitation.token_hash,
                status__in=OPEN_STATUSES,
                expires_at__gt=now,
            ).update(status=InvitationStatus.ACCEPTED, accepted_at=now, open_vendor_id=None)
            if not claimed:
                raise Gone(_UNUSABLE)
            user = await User.create(
                email=invitation.email, full_name=data.full_name, password_hash=password_hash
            )
            await Membership.create(
                user=user,
                organization_id=invitation.organization_id,
                role=Role.VENDOR,
                vendor_id=invitation.vendor_id,
            )
            await Vendor.filter(id=invitation.vendor_id).update(
                status=VendorStatus.ACTIVE, updated_at=now
            )
            await outbox.cancel_queued(invitation.id)
    except IntegrityError:
        raise Conflict("An account with this email already exists; sign in instead") from None
    organization = await Organization.get(id=invitation.organization_id)
    vendor = await Vendor.get(id=invitation.vendor_id)
    principal = Principal(user.id, organization.id, Role.VENDOR, vendor.id)
    return {
        "user": user_out(user),
        "organization": organization_out(organization),
        "vendor": vendors.vendor_out(vendor),
        **accounts.token_response(principal),
    }


@runs_to_completion
async def expire_due() -> int:
    """Mark open invitations past their expiry as expired. Safe to run concurrently:
    each row changes once, whichever worker gets there first."""
    now = datetime.now(UTC)
    expired_ids = cast(
        list[uuid.UUID],
        await Invitation.filter(status__in=OPEN_STATUSES, expires_at__lte=now).values_list(
            "id", flat=True
        ),
    )
    if not expired_ids:
        return 0
    count = 0
    for invitation_id in expired_ids:
        async with in_transaction():
            changed = await Invitation.filter(
                id=invitation_id, status__in=OPEN_STATUSES, expires_at__lte=now
            ).update(status=InvitationStatus.EXPIRED, open_vendor_id=None)
            if changed:
                await outbox.cancel_queued(invitation_id)
                count += changed
    return count
