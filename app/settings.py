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
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic import model_validator as _model_validator

PROFILES = ("development", "testing", "production")
DOTENV_FILE = ".env"

ALL_BLUEPRINTS = (
    "blueprints.pages",
    "blueprints.health",
    "blueprints.auth",
    "blueprints.vendors",
    "blueprints.invitations",
    "blueprints.members",
    "blueprints.audit",
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
    DB_POOL_MAX: int = Field(
        5,
        ge=1,
        description="PostgreSQL connections per worker, opened when needed and kept (a host "
        "uses workers x this)",
    )
    DB_APPLICATION_NAME: str = Field("onramp", description="Shown in `pg_stat_activity`")
    DB_CONNECT_TIMEOUT: Seconds = Field(5.0, description="Seconds to open a connection")
    DB_POOL_TIMEOUT: Seconds = Field(
        5.0,
        description="Seconds a query waits for a free PostgreSQL connection of the worker's "
        "pool before it fails as an outage (503)",
    )
    HSTS_SECONDS: int = Field(
        0, ge=0, description="`Strict-Transport-Security` max-age (0: not sent; set it behind TLS)"
    )
    DB_PGBOUNCER: bool = Field(
        False,
        description="PostgreSQL is reached through PgBouncer in transaction pooling: no "
        "server-side prepared-statement cache (also `?statement_cache_size=0` on the URL)",
    )
    MIGRATE_ON_START: bool = Field(
        False, description="Migrate in the main process before workers start"
    )
    PUBLIC_BASE_URL: str = Field("http://127.0.0.1:8000", description="Base of links in emails")
    BLUEPRINTS: CommaList = Field(ALL_BLUEPRINTS, description="API areas to enable (modules)")
    DOCS_ENABLED: bool = Field(False, description="`/docs` and `/docs/openapi.json`")
    CORS_ORIGINS: str = Field("", description="Comma-separated allowed origins")
    COMPRESS_MIN_SIZE: int = Field(1024, ge=0, description="Gzip JSON bodies from this size")
    # Level 1: most of level 6's saving for much less CPU (bench/README.md).
    COMPRESS_LEVEL: int = Field(1, ge=0, le=9, description="Gzip level 1-9 (0 = off)")
    REQUEST_MAX_SIZE: int = Field(1_048_576, ge=1, description="Largest request body, bytes")
    REQUEST_TIMEOUT: Seconds = Field(
        10.0,
        description="Seconds for a request's head to arrive, from its first byte (not "
        "restarted by each byte); past it 408 and the connection closes",
    )
    REQUEST_BODY_TIMEOUT: Seconds = Field(
        30.0,
        description="Seconds for a request's body to arrive, from the end of its head; "
        "past it 408 and the connection closes",
    )
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
    ACCESS_TOKEN_TTL: int = Field(
        900, ge=1, description="Access token lifetime, seconds (the revocation bound)"
    )
    REFRESH_TOKEN_TTL: int = Field(
        2_592_000, ge=1, description="Refresh token lifetime, seconds (single-use, rotated)"
    )
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", description="Access token signature"
    )
    HASH_WORKERS: int = Field(2, ge=1, description="Password-hashing threads per worker")
    HASH_QUEUE_MAX: int = Field(
        8, ge=0, description="Password hashes that may wait per worker; past it, 503 at once"
    )
    SIGNUP_ENABLED: bool = Field(
        True,
        description="Anyone may sign up (`POST /auth/signup`); off, accounts come from "
        "invitations and `python -m app create-owner`",
    )
    SIGNUP_MAX_PER_IP: int = Field(
        20, ge=1, description="Signups per client address per hour (then 429)"
    )
    ARGON2_TIME_COST: int = Field(3, ge=1, description="argon2id passes")
    ARGON2_MEMORY_COST: int = Field(65536, ge=8, description="argon2id memory, KiB")
    ARGON2_PARALLELISM: int = Field(4, ge=1, description="argon2id lanes")
    PASSWORD_MIN_LENGTH: int = Field(10, ge=1, description="Shortest password accepted")
    PASSWORD_RESET_TTL: int = Field(3600, ge=60, description="Password reset link lifetime")
    PASSWORD_RESET_MAX_PER_EMAIL: int = Field(
        3, ge=1, description="Password reset requests per address per PASSWORD_RESET_WINDOW"
    )
    PASSWORD_RESET_MAX_PER_IP: int = Field(
        20, ge=1, description="Password reset requests per client address per window"
    )
    VERIFICATION_TTL: int = Field(
        3 * 24 * 3600, ge=60, description="Seconds an address confirmation link works"
    )
    PASSWORD_RESET_WINDOW: int = Field(3600, ge=60, description="Password reset throttling window")
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
    SMTP_MESSAGES_PER_CONNECTION: int = Field(
        100, ge=1, description="Emails sent over one SMTP connection before it is renewed"
    )
    OUTBOX_DIR: str = Field("data/outbox", description="Where the file email backend writes")
    INVITATION_TTL_SECONDS: int = Field(7 * 24 * 3600, ge=1, description="Invitation lifetime")
    INVITATION_RESEND_MAX_PER_HOUR: int = Field(
        5, ge=1, description="Resends of one invitation per hour (then 429)"
    )
    INVITATIONS_PER_ORG_PER_HOUR: int = Field(
        100,
        ge=1,
        description="Invitation emails (new and resent) one organisation may cause per hour",
    )
    INVITATIONS_PER_ORG_PER_DAY: int = Field(
        500, ge=1, description="Invitation emails one organisation may cause per day"
    )
    EMAILS_PER_RECIPIENT_PER_DAY: int = Field(
        10,
        ge=1,
        description="Invitation emails one address may receive per day, all organisations together",
    )
    AUDIT_RETENTION_DAYS: int = Field(
        365, ge=1, description="Days audit events are kept before the retention job deletes them"
    )
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
    HOUSEKEEPING_INTERVAL: Seconds = Field(
        300.0, description="Seconds between purges of expired tokens and counters"
    )
    METRICS_MODE: Literal["off", "public", "token"] = Field(
        "off", description="`/metrics`: off, public, or token (Bearer METRICS_TOKEN)"
    )
    METRICS_TOKEN: SecretStr = Field(SecretStr(""), description="Bearer token for `/metrics`")
    METRICS_SAMPLE_INTERVAL: Seconds = Field(5.0, description="Seconds between gauge samples")
    METRICS_FLUSH_INTERVAL: Seconds = Field(
        1.0, description="A worker's request counts reach `/metrics` at most this late"
    )
    LOG_FORMAT: Literal["text", "json"] = Field(
        "text", description="text for people, json (one object per line) for shippers"
    )
    REQUEST_LOG: bool = Field(False, description="One line per request from the app")
    LOG_PROBES: bool = Field(
        False,
        description="Log and count `/health` and `/ready` like other requests, with a "
        "request id on `/health` (orchestrators call them every few seconds)",
    )
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
        if self.METRICS_MODE == "token" and len(self.METRICS_TOKEN.get_secret_value()) < 16:
            raise SettingsError("METRICS_MODE=token needs a METRICS_TOKEN of 16+ characters")
        if self.SMTP_TLS and self.SMTP_STARTTLS:
            raise SettingsError("SMTP_TLS (implicit TLS) and SMTP_STARTTLS exclude each other")
        if self.DISPATCH_DRAIN_TIMEOUT >= self.SHUTDOWN_TASK_TIMEOUT:
            raise SettingsError("DISPATCH_DRAIN_TIMEOUT must be below SHUTDOWN_TASK_TIMEOUT")
        if self.DISPATCH_LEASE_SECONDS <= self.SMTP_TIMEOUT:
            raise SettingsError("DISPATCH_LEASE_SECONDS must exceed SMTP_TIMEOUT")
        _check_database_url(self.DATABASE_URL)
        return self


def _check_database_url(url: str) -> None:
    """A URL the database driver can use, said in one line when it is not."""
    if url.startswith("sqlite://"):
        if not url.removeprefix("sqlite://"):
            raise SettingsError("DATABASE_URL=sqlite:// needs a file path: sqlite://data/x.sqlite3")
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL must start with sqlite:// or postgres://")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (parsing it is the check)
    except ValueError:
        raise SettingsError(
            "DATABASE_URL has a port that is not a number: postgres://user:password@host:5432/db"
        ) from None
    socket_host = "host=" in parts.query  # a Unix socket: postgres://u@/db?host=/run/postgresql
    if not (parts.hostname or socket_host) or not parts.path.strip("/"):
        raise SettingsError(
            "DATABASE_URL needs a host and a database name: postgres://user:password@host:5432/db"
        )


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
