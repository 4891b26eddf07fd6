"""Durable email across real processes: `sanic server:app --workers 2` on PostgreSQL,
a real SMTP server, SIGTERM and SIGKILL mid-delivery, and two "hosts" on one database.

Every address must receive its email; an orderly stop must never cause a duplicate.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.support import databases, pgbouncer
from tests.support.accounts import confirmed_owner
from tests.support.server import WITHOUT_DOCS, ServerProcess, leak_markers_in, until
from tests.support.smtp import SmtpServer, smtp_settings

# Several processes and hosts claiming one queue: PostgreSQL's row locks.
pytestmark = pytest.mark.backends("postgres")


@pytest.fixture
def database_url(backend: str) -> Iterator[str]:
    """An empty database: the first server migrates it, as a first deploy does."""
    with databases.fresh_postgres_database("onramp_mail") as url:
        yield url


def server_env(database_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {
        "APP_ENV": "testing",
        **WITHOUT_DOCS,
        "DATABASE_URL": database_url,
        "MIGRATE_ON_START": "true",
        "LOG_LEVEL": "INFO",
        "DISPATCH_POLL_INTERVAL": "0.2",
        "DISPATCH_CONCURRENCY": "2",
        "DISPATCH_BATCH_SIZE": "4",
        "DISPATCH_DRAIN_TIMEOUT": "5",
        "SHUTDOWN_TASK_TIMEOUT": "8",
        "GRACEFUL_SHUTDOWN_TIMEOUT": "15",
        **{key: str(value) for key, value in smtp_settings(smtp_port).items()},
    }
    env.update(extra)
    return env


def invite_many(
    base_url: str, count: int, smtp: SmtpServer, token: str | None = None, prefix: str = "v"
) -> str:
    """Sign up and confirm the address from its email (unless given a token), create
    `count` vendors and invite each one."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        if token is None:
            token = confirmed_owner(client, smtp, f"owner-{os.getpid()}@example.com")
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(count):
            vendor = client.post(
                "/api/v1/vendors",
                json={"name": f"Vendor {prefix}{n}", "contact_email": f"{prefix}{n}@example.com"},
                headers=headers,
            )
            assert vendor.status_code == 201, vendor.text
            invited = client.post(
                f"/api/v1/vendors/{vendor.json()['id']}/invitations", json={}, headers=headers
            )
            assert invited.status_code == 202, invited.text
    return token


def handed_back(output: str) -> int:
    return sum(int(n) for n in re.findall(r"emails_handed_back=(\d+)", output))


def test_sigterm_mid_delivery_hands_back_and_restart_sends_each_once(
    database_url: str, tmp_path: Path
) -> None:
    with SmtpServer(delay=0.5) as smtp:
        # Large batches, few concurrent sends: at SIGTERM each worker holds claimed rows
        # it has not started, which it must hand back.
        env = server_env(database_url, smtp.port, DISPATCH_BATCH_SIZE="20")
        with ServerProcess(env, workers=2, log_path=tmp_path / "first.log") as server:
            server.wait_ready()
            invite_many(server.url, 40, smtp)
            smtp.wait_for(3)
            # More leases than sends can be in flight (two workers, DISPATCH_CONCURRENCY
            # each): some worker holds rows it has not started. Where sending keeps pace
            # with the invitations (a slow machine), early claims are a row each; a claim
            # made while rows wait takes a batch.
            in_flight = 2 * int(env["DISPATCH_CONCURRENCY"])
            until(
                lambda: databases.claimed_emails(database_url) >= in_flight + 2,
                "no worker ever held a batch",
                server,
            )
            code, _ = server.stop(signal.SIGTERM)
            first_output = server.output()
        sent_before_restart = len(smtp.messages)
        assert code == 0, first_output
        assert leak_markers_in(first_output) == [], first_output
        assert sent_before_restart < 40, "the stop came too late to test a hand-back"
        assert handed_back(first_output) > 0, first_output
        assert len(re.findall(r"shutdown report: ", first_output)) == 2

        restart_env = {**env, "MIGRATE_ON_START": "false"}
        with ServerProcess(restart_env, workers=2, log_path=tmp_path / "second.log") as server:
            server.wait_ready()
            smtp.wait_for(40, timeout=90)
            databases.wait_until_no_email_queued(database_url)  # a duplicate came by now
            code, _ = server.stop(signal.SIGTERM)
            assert code == 0, server.output()

    recipients = smtp.recipients()
    assert set(recipients) == {f"v{n}@example.com" for n in range(40)}
    assert all(count == 1 for count in recipients.values()), recipients.most_common(3)
    assert databases.count_connections(database_url) == 0


def worker_pids(output: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"Starting worker \[(\d+)\]", output)]


def test_sigkill_of_a_worker_mid_delivery_loses_nothing(database_url: str, tmp_path: Path) -> None:
    with SmtpServer(delay=0.3) as smtp:
        env = server_env(database_url, smtp.port, DISPATCH_LEASE_SECONDS="3", SMTP_TIMEOUT="2")
        with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
            server.wait_ready()
            invite_many(server.url, 30, smtp)
            smtp.wait_for(2)
            victim = worker_pids(server.output())[0]
            os.kill(victim, signal.SIGKILL)
            smtp.wait_for(30, timeout=90)  # the survivor reclaims expired leases
            databases.wait_until_no_email_queued(database_url)  # so did any repeat
            server.stop(signal.SIGTERM)

    recipients = smtp.recipients()
    assert set(recipients) == {f"v{n}@example.com" for n in range(30)}
    # At-least-once: only a send in flight at the kill may repeat (concurrency 2).
    assert sum(count - 1 for count in recipients.values()) <= 2, recipients.most_common(3)


@pytest.mark.parametrize("route", ["direct", "pgbouncer"])
def test_two_hosts_on_one_database_send_each_email_once(
    database_url: str, tmp_path: Path, route: str
) -> None:
    """Also through a real PgBouncer in transaction pooling (the claim's FOR UPDATE SKIP
    LOCKED and lease are per transaction, so they hold there too)."""
    if route == "pgbouncer" and not pgbouncer.available() and not IN_CI:
        pytest.skip("Debian's pgbouncer is missing (make system-packages installs it)")
    with ExitStack() as stack:
        smtp = stack.enter_context(SmtpServer(delay=0.05))
        url = database_url
        extra: dict[str, str] = {}
        if route == "pgbouncer":
            url = stack.enter_context(pgbouncer.pgbouncer(database_url, pool_size=3))
            extra["DB_PGBOUNCER"] = "true"
        env = server_env(url, smtp.port, **extra)
        with ServerProcess(env, workers=2, log_path=tmp_path / "host-a.log") as host_a:
            host_a.wait_ready()
            env_b = {**env, "MIGRATE_ON_START": "false"}
            with ServerProcess(env_b, workers=2, log_path=tmp_path / "host-b.log") as host_b:
                host_b.wait_ready()
                token = invite_many(host_a.url, 30, smtp, prefix="a")
                invite_many(host_b.url, 30, smtp, token=token, prefix="b")
                smtp.wait_for(60, timeout=90)
                databases.wait_until_no_email_queued(database_url)
                assert host_b.stop(signal.SIGTERM)[0] == 0, host_b.output()
            assert host_a.stop(signal.SIGTERM)[0] == 0, host_a.output()

    recipients = smtp.recipients()
    expected = {f"a{n}@example.com" for n in range(30)} | {f"b{n}@example.com" for n in range(30)}
    assert set(recipients) == expected
    assert all(count == 1 for count in recipients.values()), recipients.most_common(3)
