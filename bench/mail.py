"""Email delivery figures: `python -m bench.mail`.

1. Latency: one worker, invitations created one at a time over HTTP; the time from
   sending the create request to the email's arrival at a local SMTP server (aiosmtpd),
   median over --count.
2. Send rate: --burst outbox rows queued while no server runs (as the API writes
   them, sealed token included), then `sanic --workers N` starts and drains them; the
   rate is measured from the first arrival to the last, the drain time from the start
   of the server, and the SMTP connections the server opened are counted.
PostgreSQL, loopback only, everything started here is stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import threading
import time
from typing import Any

import asyncpg
import httpx
from aiosmtpd.controller import Controller

from app.mail.sealing import Sealer
from bench.__main__ import RESULTS, SECRET
from tests.support import databases
from tests.support.net import free_port
from tests.support.server import ServerProcess

PASSWORD = "bench password 1234"
OWNER = "mail@bench.example.com"


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.connections = 0  # each connection greets once (EHLO)
        self.lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                if rcpt != OWNER:  # the owner's confirmation email is not measured
                    self.at.setdefault(rcpt, time.perf_counter())
        return "250 OK"


def wait_for(arrivals: Arrivals, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(arrivals.at) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(arrivals.at)} of {count} emails arrived")
        time.sleep(0.002)


def setup_org(client: httpx.Client, database_url: str) -> dict[str, str]:
    """An organisation that may send invitations: its owner's address is confirmed (in
    the database, as the confirmation link would; the bench measures invitations)."""
    signup = client.post(
        "/api/v1/auth/signup",
        json={
            "email": OWNER,
            "password": PASSWORD,
            "full_name": "M",
            "organization_name": "Mail bench",
        },
    )
    asyncio.run(confirm_owner(database_url))
    return {"Authorization": f"Bearer {signup.json()['access_token']}"}


async def confirm_owner(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE users SET email_verified_at = now() WHERE email = $1", OWNER
        )
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="workers draining the burst")
    args = parser.parse_args(argv)
    arrivals = Arrivals()
    smtp = Controller(arrivals, hostname="127.0.0.1", port=free_port())
    smtp.start()
    logs = RESULTS / "mail-logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        with databases.fresh_postgres_database("onramp_bench_mail") as database_url:
            env = {
                "APP_ENV": "production",
                "SECRET_KEY": SECRET,
                "DATABASE_URL": database_url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "SMTP_STARTTLS": "false",
                "DISPATCH_POLL_INTERVAL": "2",
            }
            databases.migrate_url(database_url)
            with ServerProcess(env, workers=1, log_path=logs / "latency.log") as server:
                server.wait_ready()
                with httpx.Client(base_url=server.url, timeout=10) as client:
                    headers = setup_org(client, database_url)
                    latencies = []
                    for n in range(args.count):
                        address = f"lat{n}@mail.example.com"
                        vendor = client.post(
                            "/api/v1/vendors",
                            headers=headers,
                            json={"name": address, "contact_email": address},
                        )
                        url = f"/api/v1/vendors/{vendor.json()['id']}/invitations"
                        requested_at = time.perf_counter()  # the invitation is created now
                        created = client.post(url, headers=headers, json={})
                        assert created.status_code == 202
                        wait_for(arrivals, n + 1, 30)
                        latencies.append(1000 * (arrivals.at[address] - requested_at))
                server.stop()
            # Send rate: rows queued while no server runs, then one worker drains them.
            asyncio.run(queue_directly(database_url, args.burst))
            connections_before = arrivals.connections
            started = time.perf_counter()
            with ServerProcess(env, workers=args.workers, log_path=logs / "rate.log") as server:
                wait_for(arrivals, args.count + args.burst, 600)
                server.stop()
            burst_times = sorted(t for a, t in arrivals.at.items() if a.startswith("burst"))
            elapsed = burst_times[-1] - burst_times[0]
            drained = burst_times[-1] - started
            burst_connections = arrivals.connections - connections_before
    finally:
        smtp.stop()
    report = {
        "latency_ms_median": round(statistics.median(latencies), 2),
        "latency_ms_p90": round(statistics.quantiles(latencies, n=10)[-1], 2),
        "latency_count": len(latencies),
        "burst": args.burst,
        "workers": args.workers,
        "burst_seconds_first_to_last": round(elapsed, 2),
        "drain_seconds_from_server_start": round(drained, 2),
        "send_rate_per_second": round((args.burst - 1) / elapsed, 1),
        "send_rate_per_worker": round((args.burst - 1) / elapsed / args.workers, 1),
        "smtp_connections": burst_connections,
    }
    print(report)
    (RESULTS / "mail.json").write_text(str(report))
    return 0


async def queue_directly(database_url: str, count: int) -> None:
    """Outbox rows as the API writes them (sealed token), without waking anyone."""
    sealer = Sealer(SECRET)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.executemany(
            "INSERT INTO outbox_emails (kind, to_address, message_id, context, secret, status, "
            "attempts, next_attempt_at, created_at) "
            "VALUES ('invitation', $1, $2, $3, $4, 'queued', 0, now(), now())",
            [
                (
                    f"burst{n}@mail.example.com",
                    f"<burst{n}@bench>",
                    json.dumps(
                        {
                            "organization_name": "Mail bench",
                            "vendor_name": f"V{n}",
                            "message": None,
                            "expires_at": "2030-01-01 00:00 UTC",
                        }
                    ),
                    sealer.seal(secrets.token_urlsafe(32)),
                )
                for n in range(count)
            ],
        )
    finally:
        await connection.close()


if __name__ == "__main__":
    raise SystemExit(main())
