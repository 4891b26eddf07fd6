"""Onramp behind a real PgBouncer in transaction pooling (how a fleet past a few hosts
reaches PostgreSQL): the real CLI with two workers, migrations, accounts, vendors and
invitation email through it, with the documented setting and with the URL parameter
operators try first. (The two-hosts exactly-once email test runs through it too, in
tests/e2e/test_mail_delivery.py.)"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.support import databases, pgbouncer
from tests.support.server import WITHOUT_DOCS, ServerProcess, leak_markers_in
from tests.support.smtp import SmtpServer, smtp_settings

pytestmark = [
    pytest.mark.backends("postgres"),  # PgBouncer fronts PostgreSQL
    pytest.mark.skipif(
        not pgbouncer.available() and not IN_CI,
        reason="Debian's pgbouncer is missing (make system-packages installs it)",
    ),
]

PASSWORD = "correct horse battery"


@pytest.fixture
def database_url(backend: str) -> Iterator[str]:
    with databases.fresh_postgres_database("onramp_bouncer") as url:
        yield url


@pytest.mark.parametrize("how", ["setting", "url"])
def test_accounts_vendors_and_email_through_pgbouncer(
    database_url: str, tmp_path: Path, how: str
) -> None:
    with SmtpServer() as smtp, pgbouncer.pgbouncer(database_url, pool_size=2) as bounced:
        env = {
            "APP_ENV": "testing",
            **WITHOUT_DOCS,
            "DATABASE_URL": bounced if how == "setting" else f"{bounced}?statement_cache_size=0",
            "MIGRATE_ON_START": "true",
            "DISPATCH_POLL_INTERVAL": "0.2",
            **{key: str(value) for key, value in smtp_settings(smtp.port).items()},
        }
        if how == "setting":
            env["DB_PGBOUNCER"] = "true"
        with ServerProcess(env, workers=2, log_path=tmp_path / "server.log") as server:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=10) as client:
                owner = client.post(
                    "/api/v1/auth/signup",
                    json={"email": "olive@acme.example.com", "password": PASSWORD,
                          "full_name": "Olive", "organization_name": "Acme"},
                )  # fmt: skip
                assert owner.status_code == 201, owner.text
                token = smtp.confirmation_token("olive@acme.example.com")
                assert client.post("/api/v1/auth/verify", json={"token": token}).status_code == 204
                login = client.post(
                    "/api/v1/auth/login",
                    json={"email": "olive@acme.example.com", "password": PASSWORD},
                )
                assert login.status_code == 200, login.text
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                ids = []
                for n in range(12):  # many requests, many transactions, across both workers
                    created = client.post(
                        "/api/v1/vendors",
                        json={"name": f"Vendor {n}", "contact_email": f"c{n}@v.example.com"},
                        headers=headers,
                    )
                    assert created.status_code == 201, created.text
                    ids.append(created.json()["id"])
                    patched = client.patch(
                        f"/api/v1/vendors/{ids[-1]}", json={"notes": "net 30"}, headers=headers
                    )
                    assert patched.status_code == 200, patched.text
                    invited = client.post(
                        f"/api/v1/vendors/{ids[-1]}/invitations", json={}, headers=headers
                    )
                    assert invited.status_code == 202, invited.text
                listed = client.get("/api/v1/vendors", params={"q": "vendor"}, headers=headers)
                assert listed.status_code == 200
                assert len(listed.json()["items"]) == 12
                assert (
                    client.delete(f"/api/v1/vendors/{ids[0]}", headers=headers).status_code == 204
                )
                assert client.get(f"/api/v1/vendors/{ids[0]}", headers=headers).status_code == 404
                assert client.get("/ready").status_code == 200
                smtp.wait_for(11, timeout=60)  # the deleted vendor's email may be cancelled
            code, _ = server.stop(signal.SIGTERM)
            output = server.output()
    assert code == 0, output
    assert leak_markers_in(output) == [], output
    assert "does not exist" not in output, output  # no "prepared statement … does not exist"
    recipients = smtp.recipients()
    assert all(count == 1 for count in recipients.values()), recipients.most_common(3)
    assert {f"c{n}@v.example.com" for n in range(1, 12)} <= set(recipients)
