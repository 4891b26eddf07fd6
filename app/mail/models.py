"""The outbox: emails written in the same transaction as the change that causes them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxEmail(Model):
    """One email to send. A worker leases a queued row (claimed_until) while sending it.

    `kind` names the area that renders it and hears how it went; `ref_id` is that area's
    object (an invitation, a user) and `ref_version` which state of it the email is for
    (an invitation's token), so a stale email never changes the object's state.
    A secret for the email (a token for its link) is kept encrypted until the email is
    sent or given up, then erased: the database never holds a usable token in clear.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    ref_id = fields.UUIDField(null=True)
    ref_version = fields.CharField(max_length=64, null=True)
    to_address = fields.CharField(max_length=320)
    message_id = fields.CharField(max_length=255)
    context: fields.JSONField[dict[str, Any]] = fields.JSONField()
    secret = fields.TextField(null=True)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_emails"
        indexes = (
            Index(fields=("status", "next_attempt_at"), name="outbox_due"),
            Index(fields=("claim_token",), name="outbox_claim_token"),
            Index(fields=("ref_id",), name="outbox_ref"),
        )


__all__ = ["OutboxEmail", "OutboxStatus"]
