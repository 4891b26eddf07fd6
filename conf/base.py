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
        "blueprints.invitations",
        "blueprints.vendor_profile",
        "blueprints.metrics",
    ),
    "DOCS_ENABLED": False,
    "CORS_ORIGINS": "",
    "COMPRESS_MIN_SIZE": 1024,
    # Level 1 costs about 60 % of level 6 on a 50-vendor page (18 KB) for ~5 % more
    # bytes (1,663 vs 1,579): see README, Benchmarks.
    "COMPRESS_LEVEL": 1,
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
    "MAIL_FROM": "Onramp <no-reply@localhost>",
    # No SMTP_HOST: emails are written as .eml files under OUTBOX_DIR instead.
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,
    "SMTP_TLS": False,
    "SMTP_TIMEOUT": 10.0,
    "OUTBOX_DIR": "data/outbox",
    "INVITATION_TTL_SECONDS": 7 * 24 * 3600,
    # The email dispatcher (one per worker): it wakes when its worker queues mail and
    # otherwise polls; a claimed row is leased, so a dead worker's rows come back.
    "DISPATCH_POLL_INTERVAL": 2.0,
    "DISPATCH_BATCH_SIZE": 20,
    "DISPATCH_CONCURRENCY": 4,
    "DISPATCH_LEASE_SECONDS": 60.0,
    "DISPATCH_MAX_ATTEMPTS": 6,
    "DISPATCH_BACKOFF_BASE": 5.0,
    "DISPATCH_BACKOFF_MAX": 3600.0,
    # On stop: how long in-flight sends may finish before their rows are handed back.
    "DISPATCH_DRAIN_TIMEOUT": 8.0,
    "EXPIRY_INTERVAL": 60.0,
    # /metrics: off, public (e.g. on a private network) or token (Authorization: Bearer).
    "METRICS_MODE": "off",
    "METRICS_TOKEN": "",
    "METRICS_SAMPLE_INTERVAL": 5.0,
    # text for people, json (one object per line) for log shippers.
    "LOG_FORMAT": "text",
    # One line per request from the app (route template, status, duration, request id).
    "REQUEST_LOG": False,
    # Workers write INFO lines in batches of this many bytes, at least every
    # LOG_FLUSH_INTERVAL seconds (like nginx's access_log buffer=/flush=); warnings and
    # errors are written at once, with what was waiting. 0 writes every line at once.
    "LOG_BUFFER_BYTES": 0,
    "LOG_FLUSH_INTERVAL": 1.0,
    # gc.freeze() once a worker has started: full collections skip what start-up built.
    "GC_FREEZE_AFTER_START": True,
    # Behind a proxy: see Sanic's docs on FORWARDED_SECRET / PROXIES_COUNT / REAL_IP_HEADER.
    "FORWARDED_SECRET": "",
    "PROXIES_COUNT": 0,
    "REAL_IP_HEADER": "",
}
