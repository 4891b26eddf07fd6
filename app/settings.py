"""The one source of settings: every name, type, default and meaning is declared once,
in `Settings` below. `conf/<profile>.py` holds only what a profile changes; environment
variables (and, in development, a `.env` file) override both.

Settings are read once per process, in the factory (and in operator commands): nothing
else reads `os.environ`, so a test builds an app from an explicit `Settings`. Importing
this module loads pydantic and nothing of Sanic or Tortoise.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic import model_validator as _model_validator

PROFILES = ("development", "testing", "production")
DOTENV_FILE = ".env"

ALL_BLUEPRINTS = (
    "blueprints.health",
    "blueprints.auth",
    "blueprints.vendors",
    "blueprints.invitations",
    "blueprints.vendor_profile",
    "blueprints.metrics",
)

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
    """Settings that must not be run with; the message says which variable and why."""


def _comma_separated(value: Any) -> Any:
    """`a, b,c` from the environment becomes `("a", "b", "c")`; sequences pass through."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_separated)]
Seconds = Annotated[float, Field(gt=0)]


class Settings(BaseModel):
    """Every setting Onramp reads. Field descriptions are the documentation (README)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    APP_ENV: Literal["development", "testing", "production"] = Field(
        "development", description="Profile: development, testing or production"
    )
    DEBUG: bool = Field(False, description="Sanic debug mode")
    SECRET_KEY: SecretStr = Field(
        SecretStr(""),
        description="Token signing and outbox sealing key; production requires a strong one",
    )
    DATABASE_URL: str = Field(
        "sqlite://data/onramp.sqlite3",
        description="`sqlite://path` or `postgres://user:pass@host:port/db`",
    )
    DB_POOL_MIN: int = Field(1, ge=1, description="PostgreSQL connections kept per worker")
    DB_POOL_MAX: int = Field(
        5, ge=1, description="PostgreSQL connections per worker (a host uses workers x this)"
    )
    DB_APPLICATION_NAME: str = Field("onramp", description="Shown in `pg_stat_activity`")
    DB_CONNECT_TIMEOUT: Seconds = Field(5.0, description="Seconds to open a connection")
    MIGRATE_ON_START: bool = Field(
        False, description="Migrate in the main process before workers start"
    )
    PUBLIC_BASE_URL: str = Field("http://127.0.0.1:8000", description="Base of links in emails")
    BLUEPRINTS: CommaList = Field(ALL_BLUEPRINTS, description="API areas to enable (modules)")
    DOCS_ENABLED: bool = Field(False, description="`/docs` and `/docs/openapi.json`")
    CORS_ORIGINS: str = Field("", description="Comma-separated allowed origins")
    COMPRESS_MIN_SIZE: int = Field(1024, ge=0, description="Gzip JSON bodies from this size")
    # Level 1 costs about 60 % of level 6 on a 50-vendor page (18 KB) for ~5 % more
    # bytes (1,663 vs 1,579): see bench/README.md.
    COMPRESS_LEVEL: int = Field(1, ge=0, le=9, description="Gzip level 1-9 (0 = off)")
    REQUEST_MAX_SIZE: int = Field(1_048_576, ge=1, description="Largest request body, bytes")
    REQUEST_TIMEOUT: Seconds = Field(30.0, description="Seconds to receive a request")
    RESPONSE_TIMEOUT: Seconds = Field(30.0, description="Seconds to answer a request")
    KEEP_ALIVE_TIMEOUT: Seconds = Field(
        5.0, description="Idle keep-alive seconds; below the proxy's upstream keep-alive"
    )
    GRACEFUL_SHUTDOWN_TIMEOUT: Seconds = Field(
        15.0, description="Seconds in-flight requests get on stop"
    )
    SHUTDOWN_TASK_TIMEOUT: Seconds = Field(
        10.0, description="Seconds background jobs get to finish on stop"
    )
    ACCESS_LOG: bool = Field(False, description="Sanic's own access log")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Level of the `onramp` loggers"
    )
    SHOW_ERROR_DETAILS: bool = Field(False, description="Tracebacks in 500 responses")
    ACCESS_TOKEN_TTL: int = Field(3600, ge=1, description="Access token lifetime, seconds")
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", description="Access token signature"
    )
    HASH_WORKERS: int = Field(2, ge=1, description="Password-hashing threads per worker")
    ARGON2_TIME_COST: int = Field(3, ge=1, description="argon2id passes")
    ARGON2_MEMORY_COST: int = Field(65536, ge=8, description="argon2id memory, KiB")
    ARGON2_PARALLELISM: int = Field(4, ge=1, description="argon2id lanes")
    PASSWORD_MIN_LENGTH: int = Field(10, ge=1, description="Shortest password accepted")
    LOGIN_WINDOW_SECONDS: int = Field(900, ge=1, description="Login throttling window")
    LOGIN_MAX_FAILURES_PER_EMAIL: int = Field(5, ge=1, description="Failed logins per email")
    LOGIN_MAX_FAILURES_PER_IP: int = Field(50, ge=1, description="Failed logins per address")
    MAIL_FROM: str = Field("Onramp <no-reply@localhost>", description="Sender of every email")
    SMTP_HOST: str = Field("", description="Mail server; unset: `.eml` files in OUTBOX_DIR")
    SMTP_PORT: int = Field(587, ge=1, le=65535, description="Mail server port")
    SMTP_USERNAME: str = Field("", description="Mail server login")
    SMTP_PASSWORD: SecretStr = Field(SecretStr(""), description="Mail server password")
    SMTP_STARTTLS: bool = Field(True, description="Upgrade the connection with STARTTLS")
    SMTP_TLS: bool = Field(False, description="Implicit TLS (port 465)")
    SMTP_TIMEOUT: Seconds = Field(10.0, description="Seconds per SMTP exchange")
    OUTBOX_DIR: str = Field("data/outbox", description="Where the file email backend writes")
    INVITATION_TTL_SECONDS: int = Field(7 * 24 * 3600, ge=1, description="Invitation lifetime")
    DISPATCH_POLL_INTERVAL: Seconds = Field(
        2.0, description="Seconds between outbox polls when not woken"
    )
    DISPATCH_BATCH_SIZE: int = Field(20, ge=1, description="Emails claimed at once")
    DISPATCH_CONCURRENCY: int = Field(4, ge=1, description="Emails sent at once per worker")
    DISPATCH_LEASE_SECONDS: Seconds = Field(
        60.0, description="A claimed email returns to the queue after this"
    )
    DISPATCH_MAX_ATTEMPTS: int = Field(6, ge=1, description="Delivery attempts per email")
    DISPATCH_BACKOFF_BASE: Seconds = Field(5.0, description="First retry delay, seconds")
    DISPATCH_BACKOFF_MAX: Seconds = Field(3600.0, description="Longest retry delay, seconds")
    DISPATCH_DRAIN_TIMEOUT: Seconds = Field(
        8.0, description="Seconds in-flight sends may finish on stop"
    )
    EXPIRY_INTERVAL: Seconds = Field(60.0, description="Seconds between invitation expiry runs")
    METRICS_MODE: Literal["off", "public", "token"] = Field(
        "off", description="`/metrics`: off, public, or token (Bearer METRICS_TOKEN)"
    )
    METRICS_TOKEN: SecretStr = Field(SecretStr(""), description="Bearer token for `/metrics`")
    METRICS_SAMPLE_INTERVAL: Seconds = Field(5.0, description="Seconds between gauge samples")
    LOG_FORMAT: Literal["text", "json"] = Field(
        "text", description="text for people, json (one object per line) for shippers"
    )
    REQUEST_LOG: bool = Field(False, description="One line per request from the app")
    LOG_BUFFER_BYTES: int = Field(
        0, ge=0, description="Write INFO lines in batches of this many bytes (0 = at once)"
    )
    LOG_FLUSH_INTERVAL: Seconds = Field(1.0, description="Buffered lines wait at most this")
    GC_FREEZE_AFTER_START: bool = Field(
        True, description="`gc.freeze()` once a worker runs (full collections skip start-up)"
    )
    FORWARDED_SECRET: SecretStr = Field(
        SecretStr(""), description="Behind a proxy: the `Forwarded: secret=` value"
    )
    PROXIES_COUNT: int = Field(0, ge=0, description="Behind a proxy: proxies appending XFF")
    REAL_IP_HEADER: str = Field("", description="Behind a proxy: header with the client address")
    COMPAT_DISABLED: CommaList = Field(
        (), description="Framework workarounds to switch off (names in app/compat)"
    )

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def uses_postgres(self) -> bool:
        return self.DATABASE_URL.startswith(("postgres://", "postgresql://"))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed, validated like the original."""
        return _validated({**dict(self), **changes})

    @_model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.is_production:
            _check_production_secret(self.SECRET_KEY.get_secret_value())
        if self.DB_POOL_MIN > self.DB_POOL_MAX:
            raise SettingsError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        if self.METRICS_MODE == "token" and len(self.METRICS_TOKEN.get_secret_value()) < 16:
            raise SettingsError("METRICS_MODE=token needs a METRICS_TOKEN of 16+ characters")
        if self.SMTP_TLS and self.SMTP_STARTTLS:
            raise SettingsError("SMTP_TLS (implicit TLS) and SMTP_STARTTLS exclude each other")
        if self.DISPATCH_DRAIN_TIMEOUT >= self.SHUTDOWN_TASK_TIMEOUT:
            raise SettingsError("DISPATCH_DRAIN_TIMEOUT must be below SHUTDOWN_TASK_TIMEOUT")
        if self.DISPATCH_LEASE_SECONDS <= self.SMTP_TIMEOUT:
            raise SettingsError("DISPATCH_LEASE_SECONDS must exceed SMTP_TIMEOUT")
        if not self.DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingsError("DATABASE_URL must start with sqlite:// or postgres://")
        return self


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


def _validated(values: Mapping[str, Any]) -> Settings:
    """`Settings` from raw values; the first problem becomes one line naming the variable."""
    try:
        return Settings.model_validate(dict(values))
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        if problem["type"] == "extra_forbidden":
            raise SettingsError(f"{name} is not a setting Onramp knows") from None
        given = values.get(name)
        shown = "(hidden)" if name in SECRET_NAMES else repr(given)
        raise SettingsError(f"{name}={shown} is not valid: {problem['msg']}") from None


SECRET_NAMES = frozenset(
    name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
)


def profile_overrides(profile: str) -> dict[str, Any]:
    """What `conf/<profile>.py` changes."""
    overrides: dict[str, Any] = importlib.import_module(f"conf.{profile}").OVERRIDES
    return overrides


def load_settings(
    environ: Mapping[str, str], *, dotenv: Path | None = None, **overrides: Any
) -> Settings:
    """Defaults < `conf.<APP_ENV>` < `.env` (development) < environment < `overrides`.

    Only variables that name a setting are taken from `environ`; `dotenv` is read only in
    the development profile (a `.env` left on a server never changes production).
    """
    profile = environ.get("APP_ENV", "development").strip() or "development"
    if profile not in PROFILES:
        raise SettingsError(f"APP_ENV={profile!r} is not one of {', '.join(PROFILES)}")
    layered: dict[str, Any] = dict(profile_overrides(profile))
    if profile == "development" and dotenv is not None and dotenv.is_file():
        from dotenv import dotenv_values

        layered.update(
            {k: v for k, v in dotenv_values(dotenv).items() if k in Settings.model_fields and v}
        )
    layered.update({k: v for k, v in environ.items() if k in Settings.model_fields})
    layered.update(overrides)
    layered["APP_ENV"] = profile
    return _validated(layered)


def _shown(name: str, value: Any) -> str:
    """A value as the settings table shows it (secrets never, only whether one is set)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if name in SECRET_NAMES:
        return "a non-production key" if value else ""
    if isinstance(value, tuple):
        return "all areas" if value == ALL_BLUEPRINTS else ", ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}"
    return str(value)


def markdown_table() -> str:
    """The README's settings table, generated from `Settings` and the profiles, so the
    documentation cannot drift (a test compares the two)."""
    profiles = {name: profile_overrides(name) for name in PROFILES}
    lines = [
        "| variable | meaning | default | development | testing | production |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        if name == "APP_ENV":
            continue
        default = _shown(name, field.default)
        cells = []
        for profile in PROFILES:
            override = profiles[profile].get(name)
            cells.append(f"`{_shown(name, override)}`" if name in profiles[profile] else "")
        shown_default = f"`{default}`" if default else "(empty)"
        lines.append(
            f"| `{name}` | {field.description} | {shown_default} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)
