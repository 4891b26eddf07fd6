"""An organisation's members: who they are, their roles, removing them.

An organisation always keeps at least one owner. Every change that could take away
its last owner first locks the organisation's row, so two owners demoting or removing
each other at the same moment (any workers, any hosts) are decided one after the
other, and the second sees the first's result (409). A removed member's refresh tokens
for the organisation are revoked in the same transaction; their access token lapses
within ACCESS_TOKEN_TTL. A role change needs no revocation: refreshing reads the role
afresh.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.accounts.models import Membership, Organization
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.sessions import Sessions
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.errors import Conflict, Forbidden, NotFound
from app.members.schemas import MemberListQuery, RoleChangeIn
from app.pagination import keyset_page
from app.runtime.db import unit_of_work
from app.vendors.models import Vendor

LAST_OWNER = "An organisation needs at least one owner; make someone else an owner first"
NOT_STAFF = "Only owners and members can be given another role"
OTHERS_ONLY_BY_OWNERS = "Only owners remove other members; anyone may leave"

_COLUMNS = ("id", "created_at", "role", "user_id", "user__email", "user__full_name")


def member_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": {
            "id": row["user_id"],
            "email": row["user__email"],
            "full_name": row["user__full_name"],
        },
        "role": row["role"],
        "joined_at": row["created_at"],
    }


async def _locked(organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    """A member, after locking their organisation's row: owner changes of one
    organisation happen one at a time (PostgreSQL row lock; SQLite has one writer)."""
    await Organization.filter(id=organization_id).select_for_update().first()
    membership = await Membership.get_or_none(organization_id=organization_id, user_id=user_id)
    if membership is None:
        raise NotFound("Member not found")
    return membership


async def _not_the_last_owner(membership: Membership) -> None:
    """Conflict if taking `membership` away from the owners would leave none."""
    if membership.role is not Role.OWNER:
        return
    others = (
        await Membership.filter(organization_id=membership.organization_id, role=Role.OWNER)
        .exclude(user_id=membership.user_id)
        .exists()
    )
    if not others:
        raise Conflict(LAST_OWNER)


class MemberService:
    async def list(self, principal: Principal, query: MemberListQuery) -> dict[str, Any]:
        rows = Membership.filter(organization_id=principal.organization_id)
        if query.role is not None:
            rows = rows.filter(role=query.role)
        return await keyset_page(
            rows, _COLUMNS, limit=query.limit, cursor=query.cursor, shape=member_out
        )

    async def _one(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
        row = (
            await Membership.filter(organization_id=organization_id, user_id=user_id)
            .first()
            .values(*_COLUMNS)
        )
        if row is None:
            raise NotFound("Member not found")
        return member_out(row)

    async def change_role(
        self, principal: Principal, user_id: uuid.UUID, data: RoleChangeIn
    ) -> dict[str, Any]:
        await self._change_role(principal, user_id, Role(data.role))
        return await self._one(principal.organization_id, user_id)

    @unit_of_work
    async def _change_role(self, principal: Principal, user_id: uuid.UUID, role: Role) -> None:
        organization_id = principal.organization_id
        membership = await _locked(organization_id, user_id)
        if membership.role is Role.VENDOR:
            raise Conflict(NOT_STAFF)
        if membership.role == role:
            return
        await _not_the_last_owner(membership)
        old = membership.role
        await Membership.filter(id=membership.id).update(role=role)
        await record(
            Action.MEMBER_ROLE_CHANGED,
            organization_id=organization_id,
            target_type=TargetType.MEMBER,
            target_id=user_id,
            actor_id=principal.user_id,
            changes={"role": [old.value, role.value]},
        )

    @unit_of_work
    async def remove(self, principal: Principal, user_id: uuid.UUID) -> None:
        """An owner removes a member, or a member leaves. Their sessions in this
        organisation end; a vendor contact's vendor loses its contact account."""
        if user_id != principal.user_id and principal.role is not Role.OWNER:
            raise Forbidden(OTHERS_ONLY_BY_OWNERS)
        organization_id = principal.organization_id
        membership = await _locked(organization_id, user_id)
        await _not_the_last_owner(membership)
        await membership.delete()
        await Sessions.revoke_membership(user_id, organization_id)
        await Vendor.filter(organization_id=organization_id, contact_user_id=user_id).update(
            contact_user_id=None
        )
        await record(
            Action.MEMBER_REMOVED,
            organization_id=organization_id,
            target_type=TargetType.MEMBER,
            target_id=user_id,
            actor_id=principal.user_id,
            changes={"role": [membership.role.value, None]},
        )
