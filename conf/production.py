"""Many workers behind a proxy. Secrets must come from the environment."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "",  # required from the environment; weak values refuse to start
    "MIGRATE_ON_START": False,  # run `python -m app migrate` once per deploy instead
    "DOCS_ENABLED": False,
    "ACCESS_LOG": False,
    "DB_POOL_MAX": 10,
    # Below a typical proxy's upstream keep-alive (nginx: 60 s), so the proxy closes first.
    "KEEP_ALIVE_TIMEOUT": 55.0,
    "REQUEST_TIMEOUT": 30.0,
    "RESPONSE_TIMEOUT": 30.0,
    "GRACEFUL_SHUTDOWN_TIMEOUT": 15.0,
    "REQUEST_MAX_SIZE": 1_048_576,
    "LOG_FORMAT": "json",
    "REQUEST_LOG": True,
    # One write per 64 KiB of request lines instead of one per request.
    "LOG_BUFFER_BYTES": 65_536,
}
