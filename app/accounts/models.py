"""Who can sign in, to which organisation, in which role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.roles import Role
from app.fields import email_key

__all__ = [
    "Membership",
    "OneTimeToken",
    "Organization",
    "RefreshToken",
    "Role",
    "TokenPurpose",
    "User",
]


class Organization(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"


class User(Model):
    """An account, its address as typed in `email` and normalised in `email_key`.

    The normalised form (`app.fields.email_key`) makes `Alice@x` and its fullwidth or
    differently cased look-alikes one account.
    """

    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    email_key = fields.CharField(max_length=320, unique=True, null=True)
    full_name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=255)
    email_verified_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = email_key(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = [*update_fields, "email_key"]
        await super().save(*args, **kwargs)


class Membership(Model):
    """A user's role in one organisation.

    (No semicolons in model docstrings: Tortoise copies the first line into a table
    comment, and its SQLite schema editor splits statements on them.)
    """

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Login without an organisation picks the membership used last.
    last_used_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)

    # Foreign key columns, for type checkers (Tortoise adds them at runtime).
    user_id: uuid.UUID
    organization_id: uuid.UUID

    class Meta:
        table = "memberships"
        unique_together = (("user", "organization"),)


class RefreshToken(Model):
    """One refresh token of a session (a family). Only its SHA-256 hash is kept.

    Single use: refreshing marks it used and issues the next one in the same family.
    A used token presented again means it was copied, and the whole family is revoked.
    """

    id = fields.UUIDField(primary_key=True)
    family_id = fields.UUIDField(db_index=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)
    revoked_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)

    user_id: uuid.UUID
    organization_id: uuid.UUID

    class Meta:
        table = "refresh_tokens"
        indexes = (Index(fields=("user_id", "organization_id"), name="refresh_tokens_member"),)


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a password)
    EMAIL_VERIFICATION = "email_verification"


class OneTimeToken(Model):
    """A single-use token mailed to a user (password reset, address verification).

    Only its SHA-256 hash is kept; using it is a conditional update, so it works once.
    """

    id = fields.UUIDField(primary_key=True)
    purpose = fields.CharEnumField(TokenPurpose, max_length=32)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="one_time_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)

    user_id: uuid.UUID

    class Meta:
        table = "one_time_tokens"
        indexes = (Index(fields=("user_id", "purpose"), name="one_time_tokens_user"),)
