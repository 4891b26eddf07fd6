"""End-to-end fixtures: a database of this test's backend for the real CLI server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import databases


@contextmanager
def _migrated_database(backend: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A new, migrated database (a server started on it finds nothing to apply; the
    mail tests start theirs on an empty one, as a first deploy does)."""
    if backend == "postgres":
        with databases.fresh_postgres_database("onramp_e2e", migrated=True) as url:
            yield url
    else:
        template: Path = request.getfixturevalue("_sqlite_template")
        yield databases.sqlite_copy(template, folder / "e2e.sqlite3")


@pytest.fixture
def e2e_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _migrated_database(backend, request, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for a module whose tests share one server (each test keeps to its
    own addresses)."""
    with _migrated_database(backend, request, tmp_path_factory.mktemp("module")) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
