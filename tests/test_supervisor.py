"""The task supervisor: bounded stop, cancellation of stubborn jobs, dead-job reporting."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.runtime.jobs import periodic
from app.runtime.supervisor import TaskSupervisor
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here


def spawn_on(api: ApiClient):  # type: ignore[no-untyped-def]
    """How the lifecycle hands Sanic's task spawner to the supervisor."""
    return lambda coro, name: api.app.add_task(coro, name=name, register=False)


async def polite(stop: asyncio.Event) -> None:
    await stop.wait()
    await asyncio.sleep(0.01)  # async cleanup after the signal


async def stubborn(stop: asyncio.Event) -> None:
    while True:  # ignores its stop event
        await asyncio.sleep(0.01)


async def crashing(stop: asyncio.Event) -> None:
    raise ValueError("boom")


def test_stop_drains_polite_jobs_and_cancels_stubborn_ones(api: ApiClient) -> None:
    async def scenario() -> tuple[list[str], list[str], dict[str, bool]]:
        supervisor = TaskSupervisor(spawn_on(api))
        supervisor.start("polite", polite)
        supervisor.start("stubborn", stubborn)
        await asyncio.sleep(0)  # both under way
        report = await supervisor.stop(timeout=0.5)
        return report.drained, report.cancelled, supervisor.running()

    drained, cancelled, running = api.run(scenario())
    assert drained == ["polite"]
    assert cancelled == ["stubborn"]
    assert running == {}


async def slow_cleanup(stop: asyncio.Event) -> None:
    await stop.wait()
    await asyncio.sleep(0.2)  # a dispatcher handing back its leases


def test_a_stop_run_again_while_the_first_waits_reports_every_job(api: ApiClient) -> None:
    """Sanic runs `before_server_stop` again when the loop is stopped during the first
    run (a repeated stop), and both runs go on: the report of either accounts for every
    job alive when the stop began, not only for those the later run found alive."""

    async def scenario() -> tuple[list[str], list[str]]:
        supervisor = TaskSupervisor(spawn_on(api))
        supervisor.start("quick", polite)
        supervisor.start("slow", slow_cleanup)
        await asyncio.sleep(0)  # both under way
        first = asyncio.ensure_future(supervisor.stop(timeout=5))
        while supervisor.running()["quick"]:  # the second stop comes once "quick" is done
            await asyncio.sleep(0.005)
        again = await supervisor.stop(timeout=5)
        return sorted((await first).drained), sorted(again.drained)

    first, again = api.run(scenario())
    assert first == again == ["quick", "slow"]


def test_one_live_job_per_name(api: ApiClient) -> None:
    async def scenario() -> None:
        supervisor = TaskSupervisor(spawn_on(api))
        supervisor.start("polite", polite)
        try:
            with pytest.raises(RuntimeError, match="already running"):
                supervisor.start("polite", polite)
        finally:
            await supervisor.stop(timeout=1)
        with pytest.raises(RuntimeError, match="stopping"):
            supervisor.start("late", polite)

    api.run(scenario())


def test_a_crashed_job_makes_the_worker_not_ready(api: ApiClient) -> None:
    async def start_crashing_job() -> None:
        supervisor = api.app.ctx.context.supervisor
        supervisor.start("crasher", crashing)
        while supervisor.running()["crasher"]:
            await asyncio.sleep(0.005)

    assert api.get("/ready").status_code == 200
    api.run(start_crashing_job())
    response = api.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == [
        {"check": "job:crasher", "error": "background job is not running"}
    ]


def test_a_sleeping_periodic_job_is_one_task() -> None:
    """A job between two runs is its own task and nothing else: a per-sleep helper task
    (what `asyncio.wait_for` makes on Python 3.11) made the loop's task count depend on
    which jobs were asleep, and the leak test's count flaky."""

    async def scenario() -> tuple[int, int]:
        runs = 0

        async def step() -> None:
            nonlocal runs
            runs += 1

        stop = asyncio.Event()
        job = asyncio.create_task(periodic(step, 0.01, logging.getLogger("test"), "step")(stop))
        while runs < 3:
            await asyncio.sleep(0.005)
        during = len(asyncio.all_tasks()) - 1  # the scenario's own task
        stop.set()
        await asyncio.wait_for(job, 1)
        return during, runs

    during, runs = asyncio.run(scenario())
    assert runs >= 3
    assert during == 1
