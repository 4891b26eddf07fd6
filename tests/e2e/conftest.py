"""End-to-end fixtures: a fresh database per test, on the suite's backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases


@pytest.fixture
def e2e_database_url(tmp_path: Path) -> Iterator[str]:
    if databases.backend() == "postgres":
        with databases.fresh_postgres_database("onramp_e2e") as url:
            yield url
    else:
        yield f"sqlite://{tmp_path / 'e2e.sqlite3'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
