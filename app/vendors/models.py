"""Vendors belong to exactly one organisation; every query is scoped by it."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.models import Organization, User
from app.fields import email_key
from app.vendors.statuses import VendorStatus

__all__ = ["Vendor", "VendorStatus"]


class Vendor(Model):
    """A supplier or contractor of one organisation.

    `contact_user` is the account of the vendor's contact once they accepted an
    invitation: the link between a vendor-role membership and the vendor it may edit.
    """

    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="vendors", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    contact_email = fields.CharField(max_length=320)
    # The normalised address (`app.fields.email_key`): one vendor per contact address.
    contact_email_key = fields.CharField(max_length=320, null=True)
    contact_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="vendor_contacts", null=True, on_delete=fields.SET_NULL
    )
    phone = fields.CharField(max_length=50, null=True)
    website = fields.CharField(max_length=2048, null=True)
    category = fields.CharField(max_length=100, null=True)
    notes = fields.TextField(null=True)
    status = fields.CharEnumField(VendorStatus, max_length=16, default=VendorStatus.DRAFT)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organization_id: uuid.UUID
    contact_user_id: uuid.UUID | None

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.contact_email_key = email_key(self.contact_email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "contact_email" in update_fields:
            kwargs["update_fields"] = [*update_fields, "contact_email_key"]
        await super().save(*args, **kwargs)

    class Meta:
        table = "vendors"
        unique_together = (("organization", "contact_email"), ("organization", "contact_email_key"))
        # Newest-first keyset pages, with and without a status filter.
        indexes = (
            Index(fields=("organization_id", "created_at", "id"), name="vendors_org_created"),
            Index(
                fields=("organization_id", "status", "created_at", "id"),
                name="vendors_org_status_created",
            ),
            Index(fields=("contact_user_id",), name="vendors_contact_user"),
        )
