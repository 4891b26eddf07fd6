"""Fixtures shared by the whole suite. `ONRAMP_TEST_DB` picks SQLite or PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sanic import Sanic

from app import create_app
from app.settings import ALL_BLUEPRINTS as DEFAULT_BLUEPRINTS
from app.settings import Settings, load_settings
from tests.support import databases
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer, smtp_settings

Sanic.test_mode = True  # many apps per process, each with its own name

ALL_BLUEPRINTS: tuple[str, ...] = DEFAULT_BLUEPRINTS
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_report_header() -> str:
    return f"onramp test database: {databases.backend()}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if databases.backend() != "postgres":
        return
    reason = databases.postgres_reachable()
    if reason is None:
        return
    if IN_CI:
        pytest.exit(
            f"PostgreSQL is required under CI=true but unreachable at "
            f"{databases.POSTGRES_ADMIN_URL}: {reason}",
            returncode=3,
        )
    session.config._onramp_pg_skip = (  # type: ignore[attr-defined]
        f"PostgreSQL unreachable at {databases.POSTGRES_ADMIN_URL} ({reason}); start it "
        "or set TEST_POSTGRES_URL to run the PostgreSQL half of the suite"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = getattr(config, "_onramp_pg_skip", None)
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def _postgres_session_db() -> Iterator[str]:
    with databases.fresh_postgres_database() as url:
        databases.migrate_url(url)
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    databases.migrate_url(f"sqlite://{path}")
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    if databases.backend() == "postgres":
        url: str = request.getfixturevalue("_postgres_session_db")
        databases.truncate_postgres(url)
        return url
    template: Path = request.getfixturevalue("_sqlite_template")
    return databases.sqlite_copy(template, tmp_path / "onramp.sqlite3")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        {"APP_ENV": "testing"},
        DATABASE_URL=database_url,
        OUTBOX_DIR=str(tmp_path / "outbox"),
        MIGRATE_ON_START=False,
        BLUEPRINTS=ALL_BLUEPRINTS,
    )


def make_app(settings: Settings) -> Sanic:
    return create_app(settings=settings, name=f"onramp_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def app(settings: Settings) -> Sanic:
    return make_app(settings)


@pytest.fixture
def api(app: Sanic) -> Iterator[ApiClient]:
    with ApiClient(app) as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback; `smtp.messages` is what it received."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    """Settings that deliver email to `smtp` promptly, with links to a public host."""
    return settings.replace(
        **smtp_settings(smtp.port),
        PUBLIC_BASE_URL="https://onramp.example.com",
        DISPATCH_POLL_INTERVAL=0.1,
    )
