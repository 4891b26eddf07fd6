"""Database outages: requests answer 503 within a bound, `/ready` names the database,
`/health` stays 200, and service resumes without a restart.

- PostgreSQL refusing connections and terminating the existing ones (`ALTER DATABASE …
  ALLOW_CONNECTIONS false` + `pg_terminate_backend`): one log line per kind of failure,
  the dispatcher waits instead of spinning, no queued email is lost.
- Every pooled connection busy (a stuck query): the wait is bounded by DB_POOL_TIMEOUT.
- A database host that accepts the TCP connection and never answers (a black hole, a
  hung server): connecting is bounded by DB_CONNECT_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from app.runtime.db import connection
from app.runtime.pg_engine import BoundedWaitPool, PoolTimeout
from app.settings import Settings
from tests.conftest import make_app
from tests.support import databases
from tests.support.accounts import create_vendor, signup
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer, smtp_settings
from tests.support.timing import deadline

postgres_only = pytest.mark.backends("postgres")
# Each test measures a bound (a connect or pool timeout): alone on the machine, after
# the parallel tests, and asserted with `deadline`'s margin.
pytestmark = pytest.mark.serial


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(databases.POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def block(name: str) -> None:
    databases.run(_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    databases.run(
        _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")  # noqa: S608 (our own name)
    )


def unblock(name: str) -> None:
    databases.run(_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def database(backend: str) -> Iterator[str]:
    with databases.fresh_postgres_database("onramp_outage", migrated=True) as url:
        yield url


@postgres_only
def test_an_outage_answers_503_quickly_and_heals(settings: Settings, database: str) -> None:
    name = database.rsplit("/", 1)[1]
    connect_timeout = 2.0
    lines = Lines()
    onramp = logging.getLogger("onramp")
    with SmtpServer(delay=0.3) as smtp:
        app = make_app(
            settings.replace(
                DATABASE_URL=database,
                MIGRATE_ON_START=False,
                DB_CONNECT_TIMEOUT=connect_timeout,
                DISPATCH_POLL_INTERVAL=0.1,
                DISPATCH_CONCURRENCY=1,
                **smtp_settings(smtp.port),
            )
        )
        with ApiClient(app) as api:
            api.token = signup(api)["access_token"]
            for _ in range(5):  # queued behind a slow SMTP server when the outage starts
                vendor = create_vendor(api, api.token)
                api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={})
            onramp.addHandler(lines)
            try:
                block(name)
                started = time.perf_counter()
                down = [api.get("/api/v1/vendors") for _ in range(20)]
                to_503 = (time.perf_counter() - started) / len(down)
                assert {r.status_code for r in down} == {503}, down[0].text
                assert down[0].json()["error"]["code"] == "database_unavailable"
                assert to_503 < deadline(connect_timeout), to_503
                ready = api.get("/ready")
                assert ready.status_code == 503
                assert ready.json()["error"]["details"][0]["check"] == "database"
                assert api.get("/health").status_code == 200
                with pytest.raises(TimeoutError):  # the dispatcher meanwhile: no spin
                    api.wait_until(lambda: len(lines.records) > 10, timeout=2.0)
                unblock(name)
                started = time.perf_counter()
                while api.get("/api/v1/vendors").status_code != 200:
                    assert time.perf_counter() - started < 10, "no recovery within 10 s"
                    time.sleep(0.05)
                recovered = time.perf_counter() - started
            finally:
                onramp.removeHandler(lines)
                unblock(name)
            api.wait_until(lambda: len(smtp.messages) >= 5, timeout=30)
            assert api.get("/ready").status_code == 200
    recipients = smtp.recipients()
    assert len(recipients) == 5, recipients
    assert set(recipients.values()) == {1}, recipients
    tracebacks = [r for r in lines.records if r.exc_info]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]
    kinds = {r.getMessage().split(")")[0] for r in lines.records}
    assert len(lines.records) <= 2 * len(kinds), [r.getMessage() for r in lines.records]
    logging.getLogger("tests.outages").warning(  # shown by pytest on failure, or with -rA
        "time to 503: %.1f ms per request; recovered in %.2f s", to_503 * 1000, recovered
    )


@postgres_only
def test_a_request_waits_for_a_busy_pool_at_most_db_pool_timeout(settings: Settings) -> None:
    bound = 0.3
    app = make_app(settings.replace(DB_POOL_MAX=1, DB_POOL_TIMEOUT=bound))
    with ApiClient(app) as api:
        token = signup(api)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def while_the_only_connection_is_held() -> tuple[httpx.Response, float]:
            pool = connection()._pool  # type: ignore[attr-defined]
            held = await pool.acquire(timeout=5)  # what a stuck query does to the pool
            try:
                async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:
                    started = time.perf_counter()
                    answer = await client.get("/api/v1/vendors", headers=headers)
                    return answer, time.perf_counter() - started
            finally:
                await pool.release(held)

        busy, waited = api.run(while_the_only_connection_is_held())
        assert busy.status_code == 503, busy.text
        assert busy.json()["error"]["code"] == "database_unavailable"
        assert bound <= waited < deadline(bound), waited
        assert api.get("/api/v1/vendors", token=token).status_code == 200  # at once


class BlackHole:
    """A TCP port that accepts connections and never says a word."""

    def __enter__(self) -> BlackHole:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._server.getsockname()[1]
        return self

    def __exit__(self, *_: object) -> None:
        self._server.close()


@pytest.mark.any_backend  # its database is a black hole, whatever the backend
def test_a_database_that_never_answers_is_503_within_db_connect_timeout(
    settings: Settings,
) -> None:
    bound = 0.5
    lines = Lines()
    onramp = logging.getLogger("onramp")
    with BlackHole() as hole:
        app = make_app(
            settings.replace(
                DATABASE_URL=f"postgres://onramp@127.0.0.1:{hole.port}/onramp",
                DB_CONNECT_TIMEOUT=bound,
                DB_POOL_TIMEOUT=bound,
            )
        )
        with ApiClient(app) as api:
            onramp.addHandler(lines)  # (after start: starting configures logging afresh)
            # The test client's OpenAPI checker is built at its first checked response (a
            # document the app builds when first served, then openapi-core's spec): done
            # before the clock starts, which measures the server's answer only.
            assert api.contract is not None
            started = time.perf_counter()
            login = api.post(
                "/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12}
            )
            took = time.perf_counter() - started
            assert login.status_code == 503, login.text
            assert login.json()["error"]["code"] == "database_unavailable"
            assert took < deadline(bound), took
            ready = api.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["error"]["details"][0]["check"] == "database"
            assert api.get("/health").status_code == 200
            api.secrets.clear()  # no audit log to search for them: there is no database
            api.wait_until(lambda: len(lines.records) >= 4)  # the jobs' first attempts too
            onramp.removeHandler(lines)
    # The request, `/ready`, the dispatcher and the periodic jobs each met the outage:
    # lines that say so, never a traceback.
    assert lines.records
    assert [r.getMessage() for r in lines.records if r.exc_info] == []


def test_callers_still_connecting_hold_their_places_in_the_pool() -> None:
    """Every place of a pool taken by callers still opening a connection to a database
    that never answers: the next caller waits the pool's bound (DB_POOL_TIMEOUT) and
    fails as busy, instead of queueing in asyncpg behind one connect timeout after
    another (seen in CI: a login 1.06 s after its start, behind the jobs' first
    attempts, with both bounds at 0.5 s). Once the attempts have failed, their places
    are free again: the next caller opens a connection of its own."""
    pool_timeout = 0.2
    connect_timeout = 1.0  # later than the pool's bound could be met: which one ended it
    assert deadline(pool_timeout) < connect_timeout

    async def scenario(port: int) -> tuple[float, float]:
        pool = await asyncpg.create_pool(
            f"postgres://onramp@127.0.0.1:{port}/onramp",
            min_size=0,
            max_size=2,
            timeout=connect_timeout,
        )
        bounded = BoundedWaitPool(pool, pool_timeout)
        try:
            opening = [asyncio.ensure_future(bounded.acquire()) for _ in range(2)]
            # One turn of the loop: each caller takes its place before its first await,
            # so both are connecting now.
            await asyncio.sleep(0)
            started = time.perf_counter()
            with pytest.raises(PoolTimeout):
                await bounded.acquire()
            waited = time.perf_counter() - started
            failed = await asyncio.gather(*opening, return_exceptions=True)
            assert [type(error) for error in failed] == [TimeoutError, TimeoutError]
            started = time.perf_counter()
            with pytest.raises(TimeoutError) as again:  # its own attempt, not the pool's bound
                await bounded.acquire()
            assert not isinstance(again.value, PoolTimeout)
            return waited, time.perf_counter() - started
        finally:
            await pool.close()

    with BlackHole() as hole:
        waited, attempted = asyncio.run(scenario(hole.port))
    assert pool_timeout <= waited < deadline(pool_timeout), waited
    assert connect_timeout <= attempted < deadline(connect_timeout), attempted
