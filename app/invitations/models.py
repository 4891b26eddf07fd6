"""Invitations. The token itself is never stored: only its SHA-256 hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.models import Organization
from app.invitations.statuses import OPEN_STATUSES, InvitationStatus
from app.vendors.models import Vendor

__all__ = ["OPEN_STATUSES", "Invitation", "InvitationStatus"]


class Invitation(Model):
    """An invitation of a vendor's contact.

    `open_vendor_id` holds the vendor id while the invitation is open (pending or sent)
    and is NULL otherwise. Its unique index makes "one open invitation per vendor" a
    database rule that concurrent requests on any worker or host cannot break.
    """

    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="invitations", on_delete=fields.CASCADE
    )
    vendor: fields.ForeignKeyRelation[Vendor] = fields.ForeignKeyField(
        "models.Vendor", related_name="invitations", on_delete=fields.CASCADE
    )
    open_vendor_id = fields.UUIDField(null=True, unique=True)
    email = fields.CharField(max_length=320)
    message = fields.TextField(null=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(InvitationStatus, max_length=16)
    expires_at = fields.DatetimeField()
    # Nullable fields the service sets to None (Tortoise types them as non-null).
    sent_at: fields.Field[datetime | None] = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    failure_reason: fields.Field[str | None] = fields.TextField(null=True)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organization_id: uuid.UUID
    vendor_id: uuid.UUID

    class Meta:
        table = "invitations"
        indexes = (
            Index(fields=("vendor_id", "created_at"), name="invitations_vendor_created"),
            Index(fields=("status", "expires_at"), name="invitations_status_expires"),
        )
