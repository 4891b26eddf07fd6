"""Database lifecycle helpers: work that must not be cut short by a departed client."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

import pytest

from app.accounts.models import Organization
from app.runtime.db import HOT_READS, connection, unit_of_work
from app.settings import Settings
from tests.conftest import make_app
from tests.support.client import ApiClient

ROOT = Path(__file__).resolve().parents[1]


def test_a_cancelled_caller_lets_the_transaction_finish_and_release(api: ApiClient) -> None:
    inside = asyncio.Event()

    @unit_of_work
    async def create_organisation() -> None:
        inside.set()
        await asyncio.sleep(0.05)
        await Organization.create(name="kept")

    async def scenario() -> tuple[int, int]:
        caller = asyncio.ensure_future(create_organisation())
        await inside.wait()
        caller.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await caller
        # The transaction goes on without its caller: its row appears, its connection
        # goes back (or, after 5 s, the test fails on what it sees then).
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            kept = await Organization.filter(name="kept").count()
            in_use = api.app.ctx.context.database.connections_in_use()
            if (kept, in_use) == (1, 0) or asyncio.get_running_loop().time() > deadline:
                return kept, in_use
            await asyncio.sleep(0.01)

    assert api.run(scenario()) == (1, 0)


needs_postgres = pytest.mark.backends("postgres")


@needs_postgres
def test_a_read_is_one_round_trip_and_a_transaction_is_still_rolled_back(
    settings: Settings,
) -> None:
    """The pool takes a connection back without asyncpg's reset query (no second round
    trip per read), yet a transaction left open on it is rolled back."""
    with ApiClient(make_app(settings.replace(DB_POOL_MAX=1))) as api:

        async def scenario() -> tuple[list[int], bool]:
            reads = HOT_READS
            await reads.fetch("SELECT 1 AS one", [])  # opens the pool's one connection
            pool = connection()._pool  # type: ignore[attr-defined]
            counts = []
            for _ in range(3):
                await reads.fetch("SELECT 1 AS one", [])
                held = await pool.acquire()
                counts.append(held._con._protocol.queries_count)
                await pool.release(held)
            held = await pool.acquire()
            await held.execute("BEGIN")  # left open by a (hypothetical) bug
            await pool.release(held)
            held = await pool.acquire()
            in_transaction_after = held.is_in_transaction()
            await pool.release(held)
            return counts, in_transaction_after

        counts, in_transaction_after = api.run(scenario())
    assert [b - a for a, b in itertools.pairwise(counts)] == [1, 1]  # the read, nothing else
    assert not in_transaction_after


def test_no_code_relies_on_session_state_a_reset_would_clear() -> None:
    """`app.runtime.pg_engine.keep_session` skips the reset query: that is only right
    while nothing keeps state in a database session beyond a transaction."""
    session_state = re.compile(
        r"pg_advisory_lock|pg_try_advisory_lock|set_config\(|add_listener\(|\.cursor\("
        r"|[\"']\s*(?:LISTEN|DECLARE|SET(?!\s+LOCAL))\s",  # SQL as we write it: upper case
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("app", "blueprints")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if session_state.search(line)
    ]
    assert found == []
