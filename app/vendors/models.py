"""Vendors belong to exactly one organisation; every query is scoped by it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.accounts.models import Organization


class VendorStatus(StrEnum):
    DRAFT = "draft"
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


class Vendor(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="vendors", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    contact_email = fields.CharField(max_length=320)
    phone = fields.CharField(max_length=50, null=True)
    website = fields.CharField(max_length=2048, null=True)
    category = fields.CharField(max_length=100, null=True)
    notes = fields.TextField(null=True)
    status = fields.CharEnumField(VendorStatus, max_length=16, default=VendorStatus.DRAFT)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "vendors"
        unique_together = (("organization", "contact_email"),)
        # Newest-first keyset pages, with and without a status filter.
        indexes = (
            Index(fields=("organization_id", "created_at", "id"), name="vendors_org_created"),
            Index(
                fields=("organization_id", "status", "created_at", "id"),
                name="vendors_org_status_created",
            ),
        )
