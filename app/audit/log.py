"""Writing the audit log: `record` inside the transaction of the change it describes.

Called inside the caller's transaction, the event commits with its change or not at
all: a change that rolls back leaves no event, and there is no event without its
change. Where the call came from (request id and client address, or the background
job) is read from `app.runtime.origin`. Field values pass through `changes_between`,
which never keeps a field whose name says it holds a secret.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from app.audit.actions import Action, TargetType
from app.audit.models import AuditEvent
from app.runtime import origin

# A field whose name contains one of these is never written to the log, whatever the
# caller passes: passwords, their hashes, tokens, sealed secrets.
SECRET_MARKERS = ("password", "token", "secret", "hash", "sealed")

Json = str | int | float | bool | None


def is_secret(field: str) -> bool:
    lowered = field.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def plain(value: Any) -> Json:
    """A value as it is shown in the log (JSON: ids and times as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str] | None = None
) -> dict[str, list[Json]]:
    """`{field: [old, new]}` for each field whose value differs (secrets left out)."""
    names = fields if fields is not None else after.keys()
    return {
        name: [plain(before.get(name)), plain(after.get(name))]
        for name in names
        if not is_secret(name) and plain(before.get(name)) != plain(after.get(name))
    }


def created(values: Mapping[str, Any]) -> dict[str, list[Json]]:
    """The changes of something that did not exist before."""
    return changes_between({}, values)


async def record(
    action: Action,
    *,
    organization_id: uuid.UUID | None,
    target_type: TargetType,
    target_id: uuid.UUID | None,
    actor_id: uuid.UUID | None = None,
    changes: Mapping[str, list[Json]] | None = None,
    source: origin.Origin | None = None,
) -> None:
    """Write one event (call inside the transaction of the change). `source` replaces
    the current origin for work done later on a request's behalf (a queued email)."""
    where = source or origin.current()
    await AuditEvent.create(
        action=action.value,
        organization_id=organization_id,
        target_type=target_type.value,
        target_id=target_id,
        actor_id=actor_id,
        changes={k: v for k, v in (changes or {}).items() if not is_secret(k)},
        request_id=where.request_id,
        ip=where.ip,
        job=where.job,
    )
