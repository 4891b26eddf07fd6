"""Reading the audit log: an organisation's events, newest first, for its owners."""

from __future__ import annotations

import uuid
from typing import Any

from app.audit.models import AuditEvent
from app.audit.schemas import AuditQuery
from app.pagination import keyset_page

_COLUMNS = (
    "id",
    "created_at",
    "action",
    "actor_id",
    "actor__email",
    "job",
    "target_type",
    "target_id",
    "changes",
    "request_id",
    "ip",
)


def event_out(row: dict[str, Any]) -> dict[str, Any]:
    actor_id = row["actor_id"]
    return {
        "id": row["id"],
        "at": row["created_at"],
        "action": row["action"],
        "actor": {"id": actor_id, "email": row["actor__email"]} if actor_id else None,
        "job": row["job"],
        "target": {"type": row["target_type"], "id": row["target_id"]},
        "changes": row["changes"],
        "request_id": row["request_id"],
        "ip": row["ip"],
    }


class AuditLog:
    async def list(self, organization_id: uuid.UUID, query: AuditQuery) -> dict[str, Any]:
        """One organisation's events (the caller's: tenant isolation is the caller's)."""
        rows = AuditEvent.filter(organization_id=organization_id)
        if query.action is not None:
            rows = rows.filter(action=query.action.value)
        if query.actor_id is not None:
            rows = rows.filter(actor_id=query.actor_id)
        if query.target_type is not None:
            rows = rows.filter(target_type=query.target_type.value)
        if query.target_id is not None:
            rows = rows.filter(target_id=query.target_id)
        if query.since is not None:
            rows = rows.filter(created_at__gte=query.since)
        if query.until is not None:
            rows = rows.filter(created_at__lt=query.until)
        return await keyset_page(
            rows, _COLUMNS, limit=query.limit, cursor=query.cursor, shape=event_out
        )
