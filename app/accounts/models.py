"""Who can sign in, to which organisation, in which role."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.roles import Role

__all__ = ["LoginFailure", "Membership", "Organization", "Role", "User"]


class Organization(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"


class User(Model):
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    full_name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


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

    # Foreign key columns, for type checkers (Tortoise adds them at runtime).
    user_id: uuid.UUID
    organization_id: uuid.UUID

    class Meta:
        table = "memberships"
        unique_together = (("user", "organization"),)


class LoginFailure(Model):
    """One failed login, counted per email and per client address over a window.

    Kept in the database so that every worker on every host sees the same count.
    """

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=320)
    client_ip = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_failures"
        indexes = (
            Index(fields=("email", "created_at"), name="login_failures_email_at"),
            Index(fields=("client_ip", "created_at"), name="login_failures_ip_at"),
        )
