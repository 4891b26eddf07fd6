"""A laptop: SQLite, file email backend, /docs on, migrations applied at start."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "DEBUG": True,
    # Development only; the production profile refuses this value.
    "SECRET_KEY": "dev-only-insecure-secret-key-change-me",
    "MIGRATE_ON_START": True,
    "DOCS_ENABLED": True,
    "ACCESS_LOG": True,
    "SHOW_ERROR_DETAILS": True,
    "METRICS_MODE": "public",
}
