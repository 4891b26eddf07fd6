"""The test suite: like development, but quiet and with production-shaped errors."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "SECRET_KEY": "testing-secret-key-not-for-production-use-0123456789",
    "MIGRATE_ON_START": True,
    "DOCS_ENABLED": True,
    "ACCESS_LOG": False,
    "LOG_LEVEL": "WARNING",
    "METRICS_MODE": "public",
    # Cheap hashes keep the suite fast; production parameters are tested explicitly.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8192,
    "ARGON2_PARALLELISM": 1,
    # Many apps start and stop in one test process: freezing would keep each one's
    # start-up garbage forever and blind the leak tests.
    "GC_FREEZE_AFTER_START": False,
    # Every test signs up from 127.0.0.1; the signup limit is tested with its own value.
    "SIGNUP_MAX_PER_IP": 100_000,
}
