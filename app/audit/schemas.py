"""Request and response shapes of the audit log endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.audit.actions import Action, TargetType
from app.fields import DateTimeParam, Email, QueryModel


class AuditQuery(QueryModel):
    action: Action | None = None
    actor_id: uuid.UUID | None = None
    target_type: TargetType | None = None
    target_id: uuid.UUID | None = None
    since: DateTimeParam | None = Field(default=None, description="Events at or after this")
    until: DateTimeParam | None = Field(default=None, description="Events before this")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class AuditActor(BaseModel):
    id: uuid.UUID
    email: Email


class AuditTarget(BaseModel):
    type: TargetType
    id: uuid.UUID | None


class AuditEventOut(BaseModel):
    id: uuid.UUID
    at: datetime
    action: Action
    actor: AuditActor | None = Field(description="null for a background job or an anonymous call")
    job: str | None = Field(description="The background job that made the change, if one did")
    target: AuditTarget
    changes: dict[str, list[Any]] = Field(description="field: [old, new]")
    request_id: str | None
    ip: str | None


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
