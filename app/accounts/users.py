"""The one way a user account comes into being, and how accounts are shown."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from app.accounts.models import Organization, User
from app.errors import Conflict

EMAIL_TAKEN = "An account with this email already exists"


async def create_user(*, email: str, full_name: str, password_hash: str) -> User:
    """A new user. Call inside the transaction that also gives it a membership, so an
    account never exists without one; a taken email (even by a concurrent request on
    another worker) is a Conflict."""
    try:
        return await User.create(email=email, full_name=full_name, password_hash=password_hash)
    except IntegrityError:
        raise Conflict(EMAIL_TAKEN) from None


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "email_verified": user.email_verified_at is not None,
        "created_at": user.created_at,
    }


def organization_out(organization: Organization) -> dict[str, Any]:
    return {"id": organization.id, "name": organization.name, "created_at": organization.created_at}
