"""Accepting an invitation: who the token is for, and joining with it, once.

The token is spent only when everything succeeds: claiming the invitation, creating or
confirming the account, the membership, the vendor's activation and the audit events
are one unit of work (`_join_new`, `_join_existing`). Password hashing and the session
that follows run outside it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.accounts import verification
from app.accounts.memberships import add_membership
from app.accounts.models import Organization, User
from app.accounts.principal import Principal
from app.accounts.service import AccountService
from app.accounts.users import create_user
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.errors import Conflict, Forbidden, Invalid
from app.fields import email_key
from app.invitations import flows
from app.invitations.models import Invitation, InvitationKind
from app.invitations.schemas import AcceptIn
from app.runtime.db import unit_of_work
from app.vendors import flows as vendor_flows
from app.vendors.models import Vendor
from app.vendors.service import vendor_out

ACCOUNT_EXISTS = "An account with this email already exists; accept with its password"
OTHER_ACCOUNT = "This invitation is for another account"


async def holder_of(address: str, caller: Principal | None) -> User | None:
    """The account that owns `address` for an invitation's purposes: a confirmed one, or
    an unconfirmed one only when it is the caller. Any other unconfirmed holder yields
    to the invitation token, which proves control of the mailbox (`_join_new` releases
    it)."""
    holder = await User.get_or_none(email_key=email_key(address))
    if holder is None:
        return None
    if holder.email_verified_at is not None:
        return holder
    return holder if caller is not None and caller.user_id == holder.id else None


class Acceptance:
    """The invitee's side of an invitation: look it up by its token, accept it."""

    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    async def lookup(self, token: str) -> dict[str, Any]:
        invitation = await flows.usable(token)
        organization = await Organization.get(id=invitation.organization_id)
        vendor = await Vendor.get_or_none(id=invitation.vendor_id) if invitation.vendor_id else None
        inviter = (
            await User.get_or_none(id=invitation.invited_by_id)
            if invitation.invited_by_id
            else None
        )
        return {
            "kind": invitation.kind,
            "organization_name": organization.name,
            "vendor_name": vendor.name if vendor else None,
            "role": invitation.role,
            "email": invitation.email,
            "invited_by_name": inviter.full_name if inviter else None,
            "expires_at": invitation.expires_at,
            "account_exists": await holder_of(invitation.email, None) is not None,
        }

    async def accept(
        self, data: AcceptIn, caller: Principal | None, client_ip: str
    ) -> dict[str, Any]:
        """Join the organisation, once, all or nothing: a new account is created for a
        new email; an email that has an account proves it (its password, or a request
        signed in as it)."""
        invitation = await flows.usable(data.token)
        existing = await holder_of(invitation.email, caller)
        if existing is not None:
            user = await self._existing_account(existing, data, caller, client_ip)
            await self._join_existing(invitation, user)
        else:
            if caller is not None:
                raise Forbidden(OTHER_ACCOUNT)
            full_name, password = data.full_name, data.password
            if not full_name or not password:
                missing = [name for name in ("full_name", "password") if not getattr(data, name)]
                raise Invalid(
                    "A new account needs a full name and a password",
                    details=[
                        {"field": f, "message": "required for a new account", "type": "missing"}
                        for f in missing
                    ],
                )
            self._accounts.passwords.check_strength(password)
            password_hash = await self._accounts.passwords.hash(password)
            user = await self._join_new(invitation, full_name, password_hash)
        principal = Principal(user.id, invitation.organization_id, invitation.role)
        tokens = await self._open_session(principal)
        vendor = await Vendor.get_or_none(id=invitation.vendor_id) if invitation.vendor_id else None
        session = await self._accounts.session_answer(user.id, invitation.organization_id, tokens)
        return {**session, "vendor": vendor_out(vendor) if vendor else None}

    async def _existing_account(
        self, user: User, data: AcceptIn, caller: Principal | None, client_ip: str
    ) -> User:
        if caller is not None:
            if caller.user_id != user.id:
                raise Forbidden(OTHER_ACCOUNT)
            return user
        if not data.password:
            raise Invalid.field(
                "password", "the password of the account with this email", "missing"
            )
        return await self._accounts.check_credentials(user.email, data.password, client_ip)

    @unit_of_work
    async def _join_existing(self, invitation: Invitation, user: User) -> None:
        await flows.claimed(invitation, datetime.now(UTC))
        if user.email_verified_at is None:  # accepting proved the mailbox
            await verification.confirmed(user)
        await _admit(invitation, user.id)

    @unit_of_work
    async def _join_new(self, invitation: Invitation, full_name: str, password_hash: str) -> User:
        now = datetime.now(UTC)
        await flows.claimed(invitation, now)
        squatter = await User.get_or_none(
            email_key=email_key(invitation.email), email_verified_at__isnull=True
        )
        if squatter is not None:  # the token proved the mailbox: it yields
            await verification.released(squatter, actor_id=None)
        try:
            user = await create_user(
                email=invitation.email, full_name=full_name, password_hash=password_hash
            )
        except Conflict:
            raise Conflict(ACCOUNT_EXISTS) from None
        # Accepting proved control of the mailbox the invitation went to.
        user.email_verified_at = now
        await user.save(update_fields=["email_verified_at"])
        await _admit(invitation, user.id)
        return user

    @unit_of_work
    async def _open_session(self, principal: Principal) -> dict[str, Any]:
        return await self._accounts.sessions.open(principal)


async def _admit(invitation: Invitation, user_id: uuid.UUID) -> None:
    """The person becomes a member (and a vendor's contact activates the vendor)."""
    await add_membership(user_id, invitation.organization_id, invitation.role)
    await record(
        Action.MEMBER_JOINED,
        organization_id=invitation.organization_id,
        target_type=TargetType.MEMBER,
        target_id=user_id,
        actor_id=user_id,
        changes={"role": [None, invitation.role.value]},
    )
    if invitation.kind is InvitationKind.VENDOR and invitation.vendor_id is not None:
        await vendor_flows.activated(invitation.vendor_id, user_id)
    await flows.accepted(invitation, user_id)
