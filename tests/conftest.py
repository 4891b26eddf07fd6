"""Fixtures shared by the whole suite, and how it covers both databases in one run.

A test that uses a database (`database_url`, `e2e_database_url`, or `backend` itself)
runs once per backend, as `test_name[sqlite]` and `test_name[postgres]`. Markers narrow
that:

- `@pytest.mark.backends("postgres")`: only there (a feature of that backend);
- `@pytest.mark.any_backend`: the database is incidental to what the test checks (HTTP,
  pages, compression, logs, the CLI's process handling): once, on the first backend the
  run covers, so SQLite unless `ONRAMP_TEST_DB=postgres`.

`ONRAMP_TEST_DB=sqlite|postgres` narrows the run to one backend. An unreachable
PostgreSQL skips its half with a message, or under `CI=true` stops the run.
"""

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
_PG_UNREACHABLE = pytest.StashKey[str]()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_report_header() -> str:
    return f"onramp test databases: {', '.join(databases.selected())}"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """In the run's first process (before it starts any xdist worker): check that
    PostgreSQL answers and migrate the template every PostgreSQL test database copies."""
    config = session.config
    if "postgres" not in databases.selected() or _is_xdist_worker(config):
        return
    reason = databases.postgres_reachable()
    if reason is not None:
        message = (
            f"PostgreSQL unreachable at {databases.POSTGRES_ADMIN_URL} ({reason}); start "
            "it or set TEST_POSTGRES_URL to run the PostgreSQL half of the suite"
        )
        if IN_CI:
            pytest.exit(f"PostgreSQL is required under CI=true: {message}", returncode=3)
        os.environ["ONRAMP_TEST_PG_UNREACHABLE"] = message
        return
    os.environ[databases.TEMPLATE_VARIABLE] = databases.create_postgres_template()


def pytest_sessionfinish(session: pytest.Session) -> None:
    template = os.environ.get(databases.TEMPLATE_VARIABLE)
    if template and not _is_xdist_worker(session.config):
        databases.drop_postgres_database(template)


def _backends_for(definition: pytest.Metafunc) -> list[str]:
    selected = databases.selected()
    if definition.definition.get_closest_marker("any_backend"):
        return [selected[0]]
    only = definition.definition.get_closest_marker("backends")
    if only is not None:
        return list(only.args)
    return list(selected)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    unreachable = os.environ.get("ONRAMP_TEST_PG_UNREACHABLE")
    params = []
    for name in _backends_for(metafunc):
        marks = []
        if name not in databases.selected():
            marks.append(pytest.mark.skip(reason=f"ONRAMP_TEST_DB={databases.selected()[0]}"))
        elif name == "postgres" and unreachable:
            marks.append(pytest.mark.skip(reason=unreachable))
        params.append(pytest.param(name, id=name, marks=marks))
    metafunc.parametrize("backend", params, scope="module")


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """The database this test runs on (`sqlite` or `postgres`): see the module docstring."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def _postgres_session_db() -> Iterator[str]:
    with databases.fresh_postgres_database(migrated=True) as url:
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    databases.migrate_url(f"sqlite://{path}")
    return path


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    if backend == "postgres":
        url: str = request.getfixturevalue("_postgres_session_db")
        databases.empty_postgres(url)
    else:
        template: Path = request.getfixturevalue("_sqlite_template")
        url = databases.sqlite_copy(template, tmp_path / "onramp.sqlite3")
    databases.switch_dialect(url)
    return url


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database never migrated, on this test's backend."""
    if backend == "postgres":
        with databases.fresh_postgres_database("onramp_empty") as url:
            databases.switch_dialect(url)
            yield url
    else:
        url = f"sqlite://{tmp_path / 'empty.sqlite3'}"
        databases.switch_dialect(url)
        yield url


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
