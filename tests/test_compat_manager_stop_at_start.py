"""A stop signal while workers are still starting ends Sanic's wait for them
(`app/compat/manager_stop_at_start.py`), on a real WorkerManager's wait loop and pipe."""

from __future__ import annotations

import threading
from multiprocessing import Pipe
from typing import Any

import pytest
from sanic.worker.manager import WorkerManager

from app.compat import manager_stop_at_start


def manager_waiting_for(acked: list[bool]) -> Any:
    """A manager whose workers have (or have not) reported ready."""
    manager: Any = object.__new__(WorkerManager)
    manager.worker_state = {
        f"Sanic-Server-{n}-0": {"server": True, "state": "ACKED" if ok else "STARTED"}
        for n, ok in enumerate(acked)
    }
    manager.num_server = len(acked)
    manager._shutting_down = False
    manager.monitor_subscriber, manager.monitor_publisher = Pipe()
    manager.THRESHOLD = 300
    return manager


def wait_returns(manager: Any, seconds: float) -> bool:
    waiter = threading.Thread(target=manager.wait_for_ack, daemon=True)
    waiter.start()
    waiter.join(seconds)
    return not waiter.is_alive()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_stop_during_start_ends_the_wait_for_workers(enabled: bool) -> None:
    manager_stop_at_start.apply(enabled)
    try:
        manager = manager_waiting_for([True, False])  # one worker never becomes ready
        # What Sanic's shutdown_signal does: a stop message down the pipe, then shutdown.
        manager.monitor_publisher.send(None)
        manager._shutting_down = True
        ended = wait_returns(manager, 3.0)
        if enabled:
            assert ended
            assert manager.monitor_subscriber.recv() is None  # left for the monitor loop
        else:
            assert not ended  # Sanic's own loop: re-sending its message, forever
            manager._shutting_down = False
            manager.worker_state["Sanic-Server-1-0"]["state"] = "ACKED"  # let it go
            assert wait_returns(manager, 3.0)
    finally:
        manager_stop_at_start.apply()


def test_a_normal_start_still_waits_for_every_worker() -> None:
    manager_stop_at_start.apply()
    assert not manager_waiting_for([True, False])._all_workers_ack()
    assert manager_waiting_for([True, True])._all_workers_ack()
