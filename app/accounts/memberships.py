"""Memberships: a user's role in an organisation."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError

from app.accounts.models import Membership
from app.accounts.roles import Role
from app.errors import Conflict


async def add_membership(user_id: uuid.UUID, organization_id: uuid.UUID, role: Role) -> Membership:
    """Give a user a role in an organisation (inside the caller's transaction)."""
    try:
        return await Membership.create(user_id=user_id, organization_id=organization_id, role=role)
    except IntegrityError:
        raise Conflict("This person is already a member of the organisation") from None
