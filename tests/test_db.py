"""Database lifecycle helpers: work that must not be cut short by a departed client."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from app.accounts.models import Organization
from app.compat.tortoise_cancel import runs_to_completion
from tests.support.client import ApiClient


def test_a_cancelled_caller_lets_the_transaction_finish_and_release(api: ApiClient) -> None:
    inside = asyncio.Event()

    @runs_to_completion
    async def create_organisation() -> None:
        async with in_transaction():
            inside.set()
            await asyncio.sleep(0.05)
            await Organization.create(name="kept")

    async def scenario() -> tuple[int, int]:
        caller = asyncio.ensure_future(create_organisation())
        await inside.wait()
        caller.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(0.3)
        kept = await Organization.filter(name="kept").count()
        return kept, api.app.ctx.context.database.connections_in_use()

    assert api.run(scenario()) == (1, 0)
