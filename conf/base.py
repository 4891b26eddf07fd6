"""Defaults shared by every profile. Keys are the environment variable names."""

from typing import Any

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "",
    "DATABASE_URL": "sqlite://data/onramp.sqlite3",
    # Connections per worker; the total is workers x DB_POOL_MAX per host.
    "DB_POOL_MIN": 1,
    "DB_POOL_MAX": 5,
    "DB_APPLICATION_NAME": "onramp",
    "DB_CONNECT_TIMEOUT": 5.0,
    "MIGRATE_ON_START": False,
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "BLUEPRINTS": (
        "blueprints.health",
        "blueprints.auth",
        "blueprints.vendors",
    ),
    "DOCS_ENABLED": False,
    "CORS_ORIGINS": "",
    "COMPRESS_MIN_SIZE": 1024,
    "COMPRESS_LEVEL": 6,
    "REQUEST_MAX_SIZE": 1_048_576,
    "REQUEST_TIMEOUT": 30.0,
    "RESPONSE_TIMEOUT": 30.0,
    "KEEP_ALIVE_TIMEOUT": 5.0,
    "GRACEFUL_SHUTDOWN_TIMEOUT": 15.0,
    "SHUTDOWN_TASK_TIMEOUT": 10.0,
    "ACCESS_LOG": False,
    "LOG_LEVEL": "INFO",
    "SHOW_ERROR_DETAILS": False,
    "ACCESS_TOKEN_TTL": 3600,
    "JWT_ALGORITHM": "HS256",
    # Threads per worker for password hashing (argon2 releases the GIL).
    "HASH_WORKERS": 2,
    # argon2id parameters (argon2-cffi's defaults); stored hashes are upgraded on login.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    "PASSWORD_MIN_LENGTH": 10,
    "LOGIN_WINDOW_SECONDS": 900,
    "LOGIN_MAX_FAILURES_PER_EMAIL": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 50,
}
