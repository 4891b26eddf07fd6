"""Many workers behind a proxy. Secrets must come from the environment."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    # SECRET_KEY is required from the environment; weak values refuse to start.
    # MIGRATE_ON_START stays off: run `python -m app migrate` once per deploy instead.
    "DB_POOL_MAX": 10,
    # Below a typical proxy's upstream keep-alive (nginx: 60 s), so the proxy closes first.
    "KEEP_ALIVE_TIMEOUT": 55.0,
    "LOG_FORMAT": "json",
    "REQUEST_LOG": True,
    # One write per 64 KiB of request lines instead of one per request.
    "LOG_BUFFER_BYTES": 65_536,
}
