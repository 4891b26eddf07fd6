"""Invitation use cases: create, list, resend, revoke, look up, accept.

Every change that sends an email writes the outbox row in the same transaction, so an
invitation never exists without its email, nor an email without it. Status changes go
through `flows`; this module decides who may do what and composes the steps.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.accounts.memberships import add_membership
from app.accounts.models import Organization, User
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.service import AccountService
from app.accounts.users import create_user, organization_out, user_out
from app.compat.tortoise_cancel import runs_to_completion
from app.errors import Conflict, NotFound
from app.invitations import flows
from app.invitations.mail import KIND
from app.invitations.models import Invitation
from app.invitations.schemas import (
    INVITATION_FIELDS,
    AcceptIn,
    InvitationCreate,
    InvitationListQuery,
)
from app.mail.outbox import Outbox
from app.pagination import after_cursor, page
from app.runtime.tokens import new_token
from app.settings import Settings
from app.vendors import flows as vendor_flows
from app.vendors.models import Vendor
from app.vendors.service import scoped as vendors_of
from app.vendors.service import vendor_out
from app.vendors.statuses import VendorStatus

ACCOUNT_EXISTS = "An account with this email already exists; sign in instead"


def scoped(principal: Principal) -> QuerySet[Invitation]:
    """Invitations of the caller's organisation only (tenant isolation)."""
    return Invitation.filter(organization_id=principal.organization_id)


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {field: getattr(invitation, field) for field in INVITATION_FIELDS}


class InvitationService:
    def __init__(self, settings: Settings, accounts: AccountService, outbox: Outbox) -> None:
        self._ttl = timedelta(seconds=settings.INVITATION_TTL_SECONDS)
        self._accounts = accounts
        self._outbox = outbox

    async def _queue_email(self, invitation: Invitation, token: str, vendor: Vendor) -> None:
        organization = await Organization.get(id=invitation.organization_id)
        await self._outbox.enqueue(
            kind=KIND,
            to_address=invitation.email,
            context={
                "organization_name": organization.name,
                "vendor_name": vendor.name,
                "message": invitation.message,
                "expires_at": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            },
            secret=token,
            ref_id=invitation.id,
            ref_version=invitation.token_hash,
        )

    async def create(
        self, principal: Principal, vendor_id: uuid.UUID, data: InvitationCreate
    ) -> dict[str, Any]:
        invitation = await self._create(principal, vendor_id, data)
        self._outbox.wake()
        return invitation_out(invitation)

    @runs_to_completion
    async def _create(
        self, principal: Principal, vendor_id: uuid.UUID, data: InvitationCreate
    ) -> Invitation:
        token, token_hash = new_token()
        try:
            async with in_transaction():
                vendor = await vendors_of(principal).get_or_none(id=vendor_id)
                if vendor is None:
                    raise NotFound("Vendor not found")
                if vendor.status in (VendorStatus.ARCHIVED, VendorStatus.SUSPENDED):
                    raise Conflict(f"A {vendor.status} vendor cannot be invited")
                invitation = await flows.opened(
                    vendor=vendor,
                    email=data.email or vendor.contact_email,
                    message=data.message,
                    token_hash=token_hash,
                    expires_at=datetime.now(UTC) + self._ttl,
                )
                await self._queue_email(invitation, token, vendor)
        except IntegrityError:  # the unique open_vendor_id: another open invitation exists
            raise Conflict(flows.OPEN_EXISTS) from None
        return invitation

    async def list_for_vendor(
        self, principal: Principal, vendor_id: uuid.UUID, query: InvitationListQuery
    ) -> dict[str, Any]:
        if not await vendors_of(principal).filter(id=vendor_id).exists():
            raise NotFound("Vendor not found")
        rows = after_cursor(scoped(principal).filter(vendor_id=vendor_id), query.cursor)
        fetched = await (
            rows.order_by("-created_at", "-id").limit(query.limit + 1).values(*INVITATION_FIELDS)
        )
        return page(fetched, query.limit)

    async def resend(self, principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
        """A new token and a new email; the old token stops working at once."""
        invitation = await self._resend(principal, invitation_id)
        self._outbox.wake()
        return invitation_out(invitation)

    @runs_to_completion
    async def _resend(self, principal: Principal, invitation_id: uuid.UUID) -> Invitation:
        token, token_hash = new_token()
        try:
            async with in_transaction():
                invitation = (
                    await scoped(principal).select_for_update().get_or_none(id=invitation_id)
                )
                if invitation is None:
                    raise NotFound("Invitation not found")
                await flows.reissued(invitation, token_hash, datetime.now(UTC) + self._ttl)
                vendor = await Vendor.get(id=invitation.vendor_id)
                await self._queue_email(invitation, token, vendor)
        except IntegrityError:
            raise Conflict(flows.OPEN_EXISTS) from None
        return invitation

    @runs_to_completion
    async def revoke(self, principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
        async with in_transaction():
            invitation = await scoped(principal).select_for_update().get_or_none(id=invitation_id)
            if invitation is None:
                raise NotFound("Invitation not found")
            await flows.revoked(invitation)
        return invitation_out(invitation)

    async def lookup(self, token: str) -> dict[str, Any]:
        invitation = await flows.usable(token)
        organization = await Organization.get(id=invitation.organization_id)
        vendor = await Vendor.get(id=invitation.vendor_id)
        return {
            "organization_name": organization.name,
            "vendor_name": vendor.name,
            "email": invitation.email,
            "expires_at": invitation.expires_at,
        }

    async def accept(self, data: AcceptIn) -> dict[str, Any]:
        """Create the contact's login and activate the vendor, once, all or nothing."""
        self._accounts.passwords.check_strength(data.password)
        invitation = await flows.usable(data.token)
        if await User.exists(email=invitation.email):
            raise Conflict(ACCOUNT_EXISTS)
        password_hash = await self._accounts.passwords.hash(data.password)
        user = await self._join(invitation, data.full_name, password_hash)
        organization = await Organization.get(id=invitation.organization_id)
        vendor = await Vendor.get(id=invitation.vendor_id)
        principal = Principal(user.id, organization.id, Role.VENDOR)
        return {
            "user": user_out(user),
            "organization": organization_out(organization),
            "vendor": vendor_out(vendor),
            **self._accounts.token_response(principal),
        }

    @runs_to_completion
    async def _join(self, invitation: Invitation, full_name: str, password_hash: str) -> User:
        async with in_transaction():
            await flows.accepted(invitation, datetime.now(UTC))
            try:
                user = await create_user(
                    email=invitation.email, full_name=full_name, password_hash=password_hash
                )
            except Conflict:
                raise Conflict(ACCOUNT_EXISTS) from None
            await add_membership(user.id, invitation.organization_id, Role.VENDOR)
            await vendor_flows.activated(invitation.vendor_id, user.id)
        return user

    async def vendor_deleted(self, vendor: Vendor) -> None:
        """Hook for `VendorService.delete`: runs in the deleting transaction."""
        await flows.vendor_deleted(vendor)
