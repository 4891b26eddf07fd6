"""Every password and token a test sends or receives, and a check that none of them
reached the audit log.

`ApiClient` feeds each request body, query and JSON answer through `collect`; before
the server stops it scans every audit event for any of them (`assert_none_logged`).
So the whole suite, not one hand-picked test, proves that the log keeps no secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

SECRET_KEYS = ("password", "token")
SHORTEST = 8  # shorter values ("x" in a 422 test) would match by accident


def collect(value: Any, into: set[str]) -> None:
    """Add the values of secret-named keys found anywhere in `value` to `into`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and any(k in str(key).lower() for k in SECRET_KEYS):
                if len(item) >= SHORTEST:
                    into.add(item)
            else:
                collect(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            collect(item, into)


def leaked(events: Iterable[dict[str, Any]], secrets: set[str]) -> list[tuple[str, str]]:
    """(event action, secret) for each secret found in an event's stored text."""
    found = []
    for event in events:
        text = orjson.dumps(event, default=str).decode()
        found.extend((str(event["action"]), secret) for secret in secrets if secret in text)
    return found
