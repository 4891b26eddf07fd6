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

from app.accounts.models import Membership, Organization, User
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.service import AccountService
from app.errors import Conflict, Forbidden, NotFound, Throttled
from app.fields import email_key
from app.invitations import flows
from app.invitations.limits import SendingLimits
from app.invitations.mail import KIND
from app.invitations.models import Invitation, InvitationKind
from app.invitations.schemas import (
    INVITATION_COLUMNS,
    InvitationCreate,
    InvitationListQuery,
    InvitationSearchQuery,
    TeammateInvitationCreate,
)
from app.invitations.statuses import InvitationStatus
from app.mail.outbox import Outbox
from app.pagination import keyset_page
from app.runtime import ratelimit
from app.runtime.db import unit_of_work
from app.runtime.ratelimit import Limit
from app.runtime.tokens import new_token
from app.settings import Settings
from app.vendors.models import Vendor
from app.vendors.service import scoped as vendors_of
from app.vendors.statuses import VendorStatus

ALREADY_MEMBER = "This address already belongs to a member of the organisation"
OWNERS_ONLY = "Only owners manage teammate invitations"
RESENT_TOO_OFTEN = "This invitation was resent too often; try again later"
RESEND_WINDOW = 3600


SENDER_UNVERIFIED = (
    "Confirm your email address first: an organisation whose owners have not confirmed "
    "their address cannot send invitations (POST /api/v1/auth/verify/resend sends the "
    "link again)"
)


async def _check_sender(organization_id: uuid.UUID) -> None:
    """Only organisations with a confirmed owner send email to strangers."""
    confirmed = await Membership.filter(
        organization_id=organization_id, role=Role.OWNER, user__email_verified_at__isnull=False
    ).exists()
    if not confirmed:
        raise Forbidden(SENDER_UNVERIFIED)


def _check_may_manage(principal: Principal, kind: InvitationKind) -> None:
    """Org staff manage vendor invitations; teammate invitations are the owners'."""
    if kind is InvitationKind.TEAMMATE and principal.role is not Role.OWNER:
        raise Forbidden(OWNERS_ONLY)


def scoped(principal: Principal) -> QuerySet[Invitation]:
    """Invitations of the caller's organisation only (tenant isolation)."""
    return Invitation.filter(organization_id=principal.organization_id)


def invitation_out(row: dict[str, Any]) -> dict[str, Any]:
    """An invitation's answer from a row of `INVITATION_COLUMNS`."""
    out = {name: row[name] for name in INVITATION_COLUMNS if "invited_by" not in name}
    inviter = row["invited_by_id"]
    out["invited_by"] = (
        {
            "id": inviter,
            "email": row["invited_by__email"],
            "full_name": row["invited_by__full_name"],
        }
        if inviter
        else None
    )
    return out


async def _page(rows: QuerySet[Invitation], query: InvitationListQuery) -> dict[str, Any]:
    return await keyset_page(
        rows, INVITATION_COLUMNS, limit=query.limit, cursor=query.cursor, shape=invitation_out
    )


class InvitationService:
    def __init__(self, settings: Settings, accounts: AccountService, outbox: Outbox) -> None:
        self._ttl = timedelta(seconds=settings.INVITATION_TTL_SECONDS)
        self._accounts = accounts
        self._outbox = outbox
        self._limits = SendingLimits(settings)
        self._resends = Limit(
            "invitation-resend", settings.INVITATION_RESEND_MAX_PER_HOUR, RESEND_WINDOW
        )

    async def _queue_email(self, invitation: Invitation, token: str) -> None:
        organization = await Organization.get(id=invitation.organization_id)
        vendor = await Vendor.get_or_none(id=invitation.vendor_id) if invitation.vendor_id else None
        inviter = (
            await User.get_or_none(id=invitation.invited_by_id)
            if invitation.invited_by_id
            else None
        )
        await _check_sender(invitation.organization_id)
        await self._limits.count(invitation.organization_id, invitation.email)
        await self._outbox.enqueue(
            kind=KIND,
            to_address=invitation.email,
            context={
                "kind": invitation.kind.value,
                "role": invitation.role.value,
                "organization_name": organization.name,
                "vendor_name": vendor.name if vendor else None,
                "inviter_name": inviter.full_name if inviter else None,
                "message": invitation.message,
                "expires_at": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            },
            secret=token,
            ref_id=invitation.id,
            ref_version=invitation.token_hash,
        )

    async def _answer(self, invitation_id: uuid.UUID) -> dict[str, Any]:
        row = await Invitation.filter(id=invitation_id).first().values(*INVITATION_COLUMNS)
        if row is None:
            raise NotFound("Invitation not found")
        return invitation_out(row)

    # --- creating -------------------------------------------------------------------

    async def create(
        self, principal: Principal, vendor_id: uuid.UUID, data: InvitationCreate
    ) -> dict[str, Any]:
        """Invite a vendor's contact."""
        invitation = await self._create_for_vendor(principal, vendor_id, data)
        self._outbox.wake()
        return await self._answer(invitation.id)

    @unit_of_work
    async def _create_for_vendor(
        self, principal: Principal, vendor_id: uuid.UUID, data: InvitationCreate
    ) -> Invitation:
        token, token_hash = new_token()
        try:
            vendor = await vendors_of(principal).get_or_none(id=vendor_id)
            if vendor is None:
                raise NotFound("Vendor not found")
            if vendor.status in (VendorStatus.ARCHIVED, VendorStatus.SUSPENDED):
                raise Conflict(f"A {vendor.status} vendor cannot be invited")
            invitation = await flows.opened(
                organization_id=principal.organization_id,
                vendor=vendor,
                role=Role.VENDOR,
                email=data.email or vendor.contact_email,
                message=data.message,
                token_hash=token_hash,
                expires_at=datetime.now(UTC) + self._ttl,
                invited_by=principal.user_id,
            )
            await self._queue_email(invitation, token)
        except IntegrityError:  # the unique open_vendor_id: another open invitation exists
            raise Conflict(flows.OPEN_EXISTS) from None
        return invitation

    async def create_teammate(
        self, principal: Principal, data: TeammateInvitationCreate
    ) -> dict[str, Any]:
        """Invite a person to join the organisation as an owner or a member."""
        invitation = await self._create_teammate(principal, data)
        self._outbox.wake()
        return await self._answer(invitation.id)

    @unit_of_work
    async def _create_teammate(
        self, principal: Principal, data: TeammateInvitationCreate
    ) -> Invitation:
        token, token_hash = new_token()
        try:
            if await Membership.exists(
                organization_id=principal.organization_id, user__email_key=email_key(data.email)
            ):
                raise Conflict(ALREADY_MEMBER)
            invitation = await flows.opened(
                organization_id=principal.organization_id,
                vendor=None,
                role=Role(data.role),
                email=data.email,
                message=data.message,
                token_hash=token_hash,
                expires_at=datetime.now(UTC) + self._ttl,
                invited_by=principal.user_id,
            )
            await self._queue_email(invitation, token)
        except IntegrityError:  # the unique (organization, open_email)
            raise Conflict(flows.TEAMMATE_OPEN_EXISTS) from None
        return invitation

    # --- reading --------------------------------------------------------------------

    async def list(self, principal: Principal, query: InvitationSearchQuery) -> dict[str, Any]:
        """The organisation's invitations of every kind, newest first."""
        rows = scoped(principal)
        if query.kind is not None:
            rows = rows.filter(kind=query.kind)
        if query.status is not None:
            rows = rows.filter(status=query.status)
        if query.vendor_id is not None:
            rows = rows.filter(vendor_id=query.vendor_id)
        return await _page(rows, query)

    async def list_for_vendor(
        self, principal: Principal, vendor_id: uuid.UUID, query: InvitationListQuery
    ) -> dict[str, Any]:
        if not await vendors_of(principal).filter(id=vendor_id).exists():
            raise NotFound("Vendor not found")
        return await _page(scoped(principal).filter(vendor_id=vendor_id), query)

    async def get(self, principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
        row = await scoped(principal).filter(id=invitation_id).first().values(*INVITATION_COLUMNS)
        if row is None:
            raise NotFound("Invitation not found")
        return invitation_out(row)

    # --- resend and revoke ----------------------------------------------------------

    @staticmethod
    async def _managed(principal: Principal, invitation_id: uuid.UUID) -> Invitation:
        """The caller's organisation's invitation, locked, if the caller may manage it."""
        invitation = await scoped(principal).select_for_update().get_or_none(id=invitation_id)
        if invitation is None:
            raise NotFound("Invitation not found")
        _check_may_manage(principal, invitation.kind)
        return invitation

    async def resend(self, principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
        """A new token and a new email; the old token stops working at once. Limited per
        invitation (INVITATION_RESEND_MAX_PER_HOUR), so nobody's inbox can be flooded."""
        await self._managed_without_lock(principal, invitation_id)
        wait = await ratelimit.hit(self._resends, str(invitation_id))
        if wait is not None:
            raise Throttled(RESENT_TOO_OFTEN, retry_after=wait)
        await self._resend(principal, invitation_id)
        self._outbox.wake()
        return await self._answer(invitation_id)

    @staticmethod
    async def _managed_without_lock(principal: Principal, invitation_id: uuid.UUID) -> None:
        """`_managed`'s checks without a lock (before the resend limit is counted)."""
        row = await scoped(principal).filter(id=invitation_id).first().values("kind")
        if row is None:
            raise NotFound("Invitation not found")
        _check_may_manage(principal, InvitationKind(row["kind"]))

    @unit_of_work
    async def _resend(self, principal: Principal, invitation_id: uuid.UUID) -> None:
        invitation = await self._managed(principal, invitation_id)
        await self._reissue(invitation, principal.user_id)

    async def _reissue(self, invitation: Invitation, actor_id: uuid.UUID | None) -> None:
        """A new token, pending again, and its email (inside the caller's transaction,
        the invitation locked)."""
        token, token_hash = new_token()
        try:
            await flows.reissued(invitation, token_hash, datetime.now(UTC) + self._ttl, actor_id)
        except IntegrityError:  # another invitation was opened meanwhile
            raise Conflict(
                flows.OPEN_EXISTS
                if invitation.kind is InvitationKind.VENDOR
                else flows.TEAMMATE_OPEN_EXISTS
            ) from None
        await self._queue_email(invitation, token)

    async def resend_failed(self, since: datetime | None = None) -> tuple[int, int]:
        """An operator's retry (`python -m app outbox requeue --failed`), once the cause
        is fixed: each invitation whose email was given up (updated at or after `since`)
        gets a new token and a new email, as its owner's resend would. Not counted
        against the resend limit: that one guards inboxes from strangers. Returns
        (resent, skipped: another invitation for the same person is open)."""
        failed = Invitation.filter(status=InvitationStatus.FAILED)
        if since is not None:
            failed = failed.filter(updated_at__gte=since)
        resent = skipped = 0
        ids: list[uuid.UUID] = [row["id"] for row in await failed.values("id")]
        for invitation_id in ids:
            try:
                resent += await self._reissue_failed(invitation_id)
            except Conflict:
                skipped += 1
        if resent:
            self._outbox.wake()
        return resent, skipped

    @unit_of_work
    async def _reissue_failed(self, invitation_id: uuid.UUID) -> int:
        invitation = await (
            Invitation.filter(id=invitation_id, status=InvitationStatus.FAILED)
            .select_for_update()
            .first()
        )
        if invitation is None:  # resent or revoked meanwhile
            return 0
        await self._reissue(invitation, None)
        return 1

    async def revoke(self, principal: Principal, invitation_id: uuid.UUID) -> dict[str, Any]:
        await self._revoke(principal, invitation_id)
        return await self._answer(invitation_id)

    @unit_of_work
    async def _revoke(self, principal: Principal, invitation_id: uuid.UUID) -> None:
        invitation = await self._managed(principal, invitation_id)
        await flows.revoked(invitation, principal.user_id)

    @staticmethod
    async def vendor_closed(vendor: Vendor, actor_id: uuid.UUID | None) -> None:
        """Hook for `VendorService` (deleted, suspended, archived): runs in its transaction."""
        await flows.vendor_closed(vendor, actor_id)
