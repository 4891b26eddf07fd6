"""One typed settings object, built from `conf/` and the environment.

Settings are read once per process, in the factory: nothing else reads `os.environ`,
so a test can build an app from an explicit `Settings` without touching the process.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args, get_type_hints

PROFILES = ("development", "testing", "production")

# Values that have been published somewhere (docs, samples, our own profiles).
_PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "your-secret-key",
        "dev-only-insecure-secret-key-change-me",
        "testing-secret-key-not-for-production-use-0123456789",
    }
)
MIN_SECRET_LENGTH = 32


class SettingsError(Exception):
    """Settings that must not be run with; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    APP_ENV: str = "development"
    DEBUG: bool = False
    SECRET_KEY: str = ""
    DATABASE_URL: str = "sqlite://data/onramp.sqlite3"
    DB_POOL_MIN: int = 1
    DB_POOL_MAX: int = 5
    DB_APPLICATION_NAME: str = "onramp"
    DB_CONNECT_TIMEOUT: float = 5.0
    MIGRATE_ON_START: bool = False
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    BLUEPRINTS: tuple[str, ...] = ()
    DOCS_ENABLED: bool = False
    CORS_ORIGINS: str = ""
    COMPRESS_MIN_SIZE: int = 1024
    COMPRESS_LEVEL: int = 1
    REQUEST_MAX_SIZE: int = 1_048_576
    REQUEST_TIMEOUT: float = 30.0
    RESPONSE_TIMEOUT: float = 30.0
    KEEP_ALIVE_TIMEOUT: float = 5.0
    GRACEFUL_SHUTDOWN_TIMEOUT: float = 15.0
    SHUTDOWN_TASK_TIMEOUT: float = 10.0
    ACCESS_LOG: bool = False
    LOG_LEVEL: str = "INFO"
    SHOW_ERROR_DETAILS: bool = False
    ACCESS_TOKEN_TTL: int = 3600
    JWT_ALGORITHM: str = "HS256"
    HASH_WORKERS: int = 2
    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_COST: int = 65536
    ARGON2_PARALLELISM: int = 4
    PASSWORD_MIN_LENGTH: int = 10
    LOGIN_WINDOW_SECONDS: int = 900
    LOGIN_MAX_FAILURES_PER_EMAIL: int = 5
    LOGIN_MAX_FAILURES_PER_IP: int = 50
    MAIL_FROM: str = "Onramp <no-reply@localhost>"
    SMTP_HOST: str = ""
    SMTP_PORT: int = 587
    SMTP_USERNAME: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = True
    SMTP_TLS: bool = False
    SMTP_TIMEOUT: float = 10.0
    OUTBOX_DIR: str = "data/outbox"
    INVITATION_TTL_SECONDS: int = 7 * 24 * 3600
    DISPATCH_POLL_INTERVAL: float = 2.0
    DISPATCH_BATCH_SIZE: int = 20
    DISPATCH_CONCURRENCY: int = 4
    DISPATCH_LEASE_SECONDS: float = 60.0
    DISPATCH_MAX_ATTEMPTS: int = 6
    DISPATCH_BACKOFF_BASE: float = 5.0
    DISPATCH_BACKOFF_MAX: float = 3600.0
    DISPATCH_DRAIN_TIMEOUT: float = 8.0
    EXPIRY_INTERVAL: float = 60.0
    METRICS_MODE: str = "off"
    METRICS_TOKEN: str = ""
    METRICS_SAMPLE_INTERVAL: float = 5.0
    LOG_FORMAT: str = "text"
    REQUEST_LOG: bool = False
    LOG_BUFFER_BYTES: int = 0
    GC_FREEZE_AFTER_START: bool = False
    LOG_FLUSH_INTERVAL: float = 1.0
    FORWARDED_SECRET: str = ""
    PROXIES_COUNT: int = 0
    REAL_IP_HEADER: str = ""

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def uses_postgres(self) -> bool:
        return self.DATABASE_URL.startswith(("postgres://", "postgresql://", "asyncpg://"))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed, validated like the original."""
        updated = dataclasses.replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        if self.APP_ENV not in PROFILES:
            raise SettingsError(f"APP_ENV={self.APP_ENV!r} is not one of {', '.join(PROFILES)}")
        if self.is_production:
            _check_production_secret(self.SECRET_KEY)
        if not 1 <= self.DB_POOL_MIN <= self.DB_POOL_MAX:
            raise SettingsError("need 1 <= DB_POOL_MIN <= DB_POOL_MAX")
        if not 0 <= self.COMPRESS_LEVEL <= 9:
            raise SettingsError("COMPRESS_LEVEL must be 0..9 (0 turns compression off)")
        if self.HASH_WORKERS < 1:
            raise SettingsError("HASH_WORKERS must be at least 1")
        if self.METRICS_MODE not in {"off", "public", "token"}:
            raise SettingsError("METRICS_MODE must be off, public or token")
        if self.METRICS_MODE == "token" and len(self.METRICS_TOKEN) < 16:
            raise SettingsError("METRICS_MODE=token needs a METRICS_TOKEN of 16+ characters")
        if self.LOG_FORMAT not in {"text", "json"}:
            raise SettingsError("LOG_FORMAT must be text or json")
        if self.LOG_BUFFER_BYTES < 0 or self.LOG_FLUSH_INTERVAL <= 0:
            raise SettingsError("need LOG_BUFFER_BYTES >= 0 and LOG_FLUSH_INTERVAL > 0")
        if self.SMTP_TLS and self.SMTP_STARTTLS:
            raise SettingsError("SMTP_TLS (implicit TLS) and SMTP_STARTTLS exclude each other")
        if self.DISPATCH_DRAIN_TIMEOUT >= self.SHUTDOWN_TASK_TIMEOUT:
            raise SettingsError("DISPATCH_DRAIN_TIMEOUT must be below SHUTDOWN_TASK_TIMEOUT")
        if self.DISPATCH_LEASE_SECONDS <= self.SMTP_TIMEOUT:
            raise SettingsError("DISPATCH_LEASE_SECONDS must exceed SMTP_TIMEOUT")
        if self.JWT_ALGORITHM not in {"HS256", "HS384", "HS512"}:
            raise SettingsError("JWT_ALGORITHM must be HS256, HS384 or HS512")
        if not self.DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError("DATABASE_URL must start with sqlite:// or postgres://")


def _check_production_secret(secret: str) -> None:
    if secret.strip().lower() in _PLACEHOLDER_SECRETS:
        raise SettingsError(
            "SECRET_KEY is missing or a published placeholder; production refuses to start. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    if len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 10:
        raise SettingsError(
            f"SECRET_KEY is too weak (need at least {MIN_SECRET_LENGTH} characters of varied "
            "content); production refuses to start."
        )


def load_settings(environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Build settings: `conf.base` < `conf.<APP_ENV>` < environment < `overrides`."""
    profile = environ.get("APP_ENV", "development").strip() or "development"
    if profile not in PROFILES:
        raise SettingsError(f"APP_ENV={profile!r} is not one of {', '.join(PROFILES)}")
    base = importlib.import_module("conf.base").DEFAULTS
    layered: dict[str, Any] = {**base, **importlib.import_module(f"conf.{profile}").OVERRIDES}
    layered["APP_ENV"] = profile
    hints = get_type_hints(Settings)
    for field in dataclasses.fields(Settings):
        raw = environ.get(field.name)
        if raw is not None and field.name != "APP_ENV":
            layered[field.name] = _coerce(field.name, raw, hints[field.name])
    layered.update(overrides)
    unknown = set(layered) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    settings = Settings(**layered)
    settings.validate()
    return settings


def _coerce(name: str, raw: str, kind: Any) -> Any:
    """Turn an environment string into the field's type, or say which variable is wrong."""
    args = get_args(kind)
    if isinstance(kind, types.UnionType):  # "X | None": only str | None is used
        kind = next(a for a in args if a is not type(None))
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw.replace("_", ""))
        if kind is float:
            return float(raw)
        if getattr(kind, "__origin__", None) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not a valid {kind}") from None
