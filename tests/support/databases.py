"""Test databases on SQLite and PostgreSQL, and the admin work around them.

One run of the suite covers both backends: a test that uses a database is run once per
backend (`tests/conftest.py` parametrizes it), unless its markers say otherwise.
`ONRAMP_TEST_DB` narrows a run to `sqlite` or `postgres` (default: both).
`TEST_POSTGRES_URL` points at a server where the tests may create databases.

PostgreSQL databases are cloned from one template migrated once per run (`CREATE
DATABASE ... TEMPLATE`: about a tenth of a second, where creating and migrating one takes
more than a second), and each is told not to wait for its commits to reach the disk
(`synchronous_commit = off`: a crash of the server could lose the last commits, which no
test relies on; what every session sees is unchanged).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.runtime.migrations import migrate
from app.settings import load_settings

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")
TEMPLATE_VARIABLE = "ONRAMP_TEST_PG_TEMPLATE"
"""Set by the run's first process to the migrated template's name; inherited by the
xdist workers it starts."""


def selected() -> tuple[str, ...]:
    """The backends this run covers, as `ONRAMP_TEST_DB` says (default: both)."""
    name = os.environ.get("ONRAMP_TEST_DB", "").strip().lower()
    if name in {"", "all", "both"}:
        return BACKENDS
    if name not in BACKENDS:
        raise RuntimeError(f"ONRAMP_TEST_DB must be sqlite, postgres or both, not {name!r}")
    return (name,)


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


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        for sql in statements:
            await connection.execute(sql)
    finally:
        await connection.close()


def _new_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


@contextmanager
def fresh_postgres_database(
    prefix: str = "onramp_test", *, migrated: bool = False
) -> Iterator[str]:
    """A new database, empty or (`migrated=True`) a copy of the migrated template; dropped
    (with any sessions left on it) afterwards."""
    name = _new_name(prefix)
    template = os.environ.get(TEMPLATE_VARIABLE) if migrated else None
    source = f' TEMPLATE "{template}"' if template else ""
    run(
        _admin(
            f'CREATE DATABASE "{name}"{source}',
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )
    )
    try:
        url = postgres_url(name)
        if migrated and not template:  # a process outside a test run (the benchmarks)
            migrate_url(url)
        yield url
    finally:
        drop_postgres_database(name)


def drop_postgres_database(name: str) -> None:
    run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_postgres_template() -> str:
    """Create and migrate the run's template database; return its name. Nobody connects
    to it afterwards (a database being copied must have no sessions)."""
    name = _new_name("onramp_template")
    run(_admin(f'CREATE DATABASE "{name}"'))
    migrate_url(postgres_url(name))
    return name


_dialect_in_use: list[str] = []


def switch_dialect(url: str) -> None:
    """Before Tortoise opens `url` in this process: forget its statements if the last
    database it opened here was of the other kind.

    Tortoise keeps the SQL it built for each table (`EXECUTOR_CACHE`) by connection name
    and table, not by dialect: a process that served SQLite and then opens PostgreSQL
    under the same connection name would send SQLite's `?` placeholders to PostgreSQL.
    A server process opens one database; a test process opens both.
    """
    dialect = url.split(":", 1)[0]
    if _dialect_in_use and _dialect_in_use[0] != dialect:
        EXECUTOR_CACHE.clear()
    _dialect_in_use[:] = [dialect]


def migrate_url(url: str) -> None:
    switch_dialect(url)
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


async def _client_ports(database: str, application_name: str) -> list[int]:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT client_port FROM pg_stat_activity"
            " WHERE datname = $1 AND application_name = $2 AND pid <> pg_backend_pid()",
            database,
            application_name,
        )
        return sorted(int(row["client_port"]) for row in rows)
    finally:
        await connection.close()


def client_ports(url: str, application_name: str) -> list[int]:
    """The local TCP port of each client session of `application_name` on the database of
    `url`: with psutil, which process holds each session."""
    return run(_client_ports(url.rsplit("/", 1)[1], application_name))


async def _queued_emails(url: str) -> int:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM outbox_emails WHERE status = 'queued'")
        )
    finally:
        await connection.close()


async def _claimed_emails(url: str) -> int:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM outbox_emails"
                " WHERE status = 'queued' AND claimed_until > now()"
            )
        )
    finally:
        await connection.close()


def claimed_emails(url: str) -> int:
    """Queued emails that a worker holds a lease on now: being sent, or claimed in a
    batch and not yet started."""
    return run(_claimed_emails(url))


def wait_until_no_email_queued(url: str, timeout: float = 90.0) -> None:
    """Until every email of the outbox at `url` (PostgreSQL) is sent, failed or cancelled:
    from then on no dispatcher holds one, so nothing more can be sent, duplicates
    included."""
    deadline = time.monotonic() + timeout
    while (queued := run(_queued_emails(url))) > 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{queued} emails still queued after {timeout}s")
        time.sleep(0.05)


_EMPTYING: dict[str, str] = {}
"""Per database, the statements that empty it (its schema does not change in a run)."""


async def _empty(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        if url not in _EMPTYING:
            tables = [row["tablename"] for row in await connection.fetch(_CHILDREN_FIRST)]
            sequences = await connection.fetch(
                "SELECT pg_get_serial_sequence(quote_ident(t), 'id') AS name "
                "FROM unnest($1::text[]) AS t",
                tables,
            )
            _EMPTYING[url] = "; ".join(
                [f'DELETE FROM "{table}"' for table in tables]  # noqa: S608 (catalogue names)
                + [f"SELECT setval('{row['name']}', 1, false)" for row in sequences if row["name"]]
            )
        # DELETE, children first, in one transaction: a TRUNCATE of every table makes
        # new files for each (tens of milliseconds); emptying small tables takes well
        # under one. Sequences start again, as on a fresh SQLite copy.
        if _EMPTYING[url]:
            await connection.execute(_EMPTYING[url])
    finally:
        await connection.close()


_CHILDREN_FIRST = """
WITH RECURSIVE tables AS (
    SELECT c.oid, c.relname AS tablename FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'tortoise_migrations'
), depth(oid, level) AS (
    SELECT oid, 0 FROM tables
    UNION ALL
    SELECT f.conrelid, depth.level + 1 FROM depth
    JOIN pg_constraint f ON f.contype = 'f' AND f.confrelid = depth.oid
    WHERE f.conrelid <> depth.oid AND depth.level < 32
)
SELECT t.tablename FROM tables t JOIN depth d ON d.oid = t.oid
GROUP BY t.tablename ORDER BY max(d.level) DESC, t.tablename
"""
"""Every table, each after all that reference it (a foreign key's table is deleted
from before the table it points to)."""


def empty_postgres(url: str) -> None:
    """Delete every row but the migration records."""
    run(_empty(url))
