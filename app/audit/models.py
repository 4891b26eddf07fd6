"""The audit log's one table."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class AuditEvent(Model):
    """One change of state, written in the transaction of the change.

    `organization` is NULL for what belongs to a person rather than an organisation
    (a failed sign-in, a password reset). `actor` is NULL for background jobs (`job`
    names them) and for anonymous requests. The audit log sits below the areas whose
    changes it records, so its relations name their models by Tortoise's label only
    (typed as any model); queries use the `_id` columns.
    """

    id = fields.UUIDField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    organization: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.Organization", related_name="audit_events", null=True, on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.User",
        related_name="audit_events",
        null=True,
        on_delete=fields.SET_NULL,
    )
    job = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32)
    target_id = fields.UUIDField(null=True)
    changes: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    request_id = fields.CharField(max_length=128, null=True)
    ip = fields.CharField(max_length=64, null=True)

    organization_id: uuid.UUID | None
    actor_id: uuid.UUID | None

    class Meta:
        table = "audit_events"
        indexes = (
            Index(fields=("organization_id", "created_at", "id"), name="audit_org_time"),
            Index(fields=("organization_id", "action", "created_at"), name="audit_org_action"),
            Index(fields=("organization_id", "actor_id", "created_at"), name="audit_org_actor"),
            Index(
                fields=("organization_id", "target_type", "target_id", "created_at"),
                name="audit_org_target",
            ),
            Index(fields=("created_at",), name="audit_time"),
        )
