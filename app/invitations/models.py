"""Invitations. The token itself is never stored: only its SHA-256 hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.models import Organization, User
from app.accounts.roles import Role
from app.invitations.statuses import OPEN_STATUSES, InvitationKind, InvitationStatus
from app.vendors.models import Vendor

__all__ = ["OPEN_STATUSES", "Invitation", "InvitationKind", "InvitationStatus"]


class Invitation(Model):
    """An invitation of a vendor's contact (kind `vendor`) or of a teammate.

    While an invitation is open (pending or sent), `open_vendor_id` holds its vendor's
    id (vendor kind) and `open_email` its address (teammate kind); both are NULL
    otherwise. Their unique indexes make "one open invitation per vendor" and "one open
    teammate invitation per address and organisation" database rules that concurrent
    requests on any worker or host cannot break. A deleted vendor's invitations stay,
    revoked and without a vendor, as history.
    """

    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="invitations", on_delete=fields.CASCADE
    )
    vendor: fields.ForeignKeyNullableRelation[Vendor] = fields.ForeignKeyField(
        "models.Vendor", related_name="invitations", null=True, on_delete=fields.SET_NULL
    )
    open_vendor_id = fields.UUIDField(null=True, unique=True)
    open_email: fields.Field[str | None] = fields.CharField(max_length=320, null=True)
    # The database fills the rows that existed before kinds did.
    kind = fields.CharEnumField(
        InvitationKind, max_length=16, default=InvitationKind.VENDOR, db_default="vendor"
    )
    role = fields.CharEnumField(Role, max_length=16, default=Role.VENDOR, db_default="vendor")
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    email = fields.CharField(max_length=320)
    message = fields.TextField(null=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(InvitationStatus, max_length=16)
    expires_at = fields.DatetimeField()
    # Nullable fields the service sets to None (Tortoise types them as non-null).
    sent_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    failure_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organization_id: uuid.UUID
    vendor_id: uuid.UUID | None
    invited_by_id: uuid.UUID | None

    class Meta:
        table = "invitations"
        unique_together = (("organization", "open_email"),)
        indexes = (
            Index(fields=("vendor_id", "created_at"), name="invitations_vendor_created"),
            Index(fields=("status", "expires_at"), name="invitations_status_expires"),
            Index(fields=("organization_id", "created_at"), name="invitations_org_created"),
        )
