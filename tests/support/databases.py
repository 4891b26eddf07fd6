"""Test databases: a migrated SQLite template copied per test, or a fresh PostgreSQL database.

`ONRAMP_TEST_DB` (sqlite, the default, or postgres) switches the whole suite.
`TEST_POSTGRES_URL` points at a server where the tests may create databases.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from app.runtime.migrations import migrate
from app.settings import load_settings

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def backend() -> str:
    name = os.environ.get("ONRAMP_TEST_DB", "sqlite").strip().lower()
    if name not in {"sqlite", "postgres"}:
        raise RuntimeError(f"ONRAMP_TEST_DB must be sqlite or postgres, not {name!r}")
    return name


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on a private loop (tests are synchronous; the app has its own loop).

    Where a loop already runs in this thread (Playwright's sync API keeps one), the
    coroutine runs on a loop of its own in a short-lived thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with asyncio.Runner() as runner:
            return runner.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db") as pool:
        return pool.submit(asyncio.run, coro).result()


def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""

    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
        await connection.close()

    try:
        run(probe())
    except Exception as error:
        return repr(error)
    return None


def postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@contextmanager
def fresh_postgres_database(prefix: str = "onramp_test") -> Iterator[str]:
    """Create a new, empty database; drop it (and any leftover sessions) afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url(name)
    finally:
        run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate_url(url: str) -> None:
    run(migrate(load_settings({"APP_ENV": "testing"}, DATABASE_URL=url)))


def sqlite_copy(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite://{target}"


async def _count_connections(database: str, application_name: str | None) -> int:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        )
        args: list[str] = [database]
        if application_name is not None:
            query += " AND application_name = $2"
            args.append(application_name)
        return int(await connection.fetchval(query, *args))
    finally:
        await connection.close()


def count_connections(url: str, application_name: str | None = None) -> int:
    """Sessions connected to the database of `url` (optionally by application name)."""
    return run(_count_connections(url.rsplit("/", 1)[1], application_name))


async def _truncate(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def truncate_postgres(url: str) -> None:
    run(_truncate(url))
