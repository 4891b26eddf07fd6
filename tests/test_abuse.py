"""What a stranger with a free account (or none) would try: suspensions that do not
hold, squatting a deleted vendor's address, racing the login throttle."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.accounts.models import User
from app.mail.models import OutboxEmail
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import ACCEPT, accept, invite, receive
from tests.support.smtp import SmtpServer, token_in
from tests.support.timing import deadline

LOGIN = "/api/v1/auth/login"
PROFILE = "/api/v1/vendor-profile"


@pytest.fixture
def owner_api(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings)) as client:
        client.token = signup(client, email="olive@acme.example.com", org="Acme")["access_token"]
        yield client


def contact_of(api: ApiClient, smtp: SmtpServer, email: str) -> tuple[dict[str, Any], Any]:
    """A vendor whose contact (`email`) accepted its invitation: (vendor, accept answer)."""
    vendor = create_vendor(api, api.token or "", contact_email=email)
    invite(api, vendor["id"])
    joined = accept(api, token_in(receive(api, smtp, len(smtp.messages) + 1)[-1]))
    assert joined.status_code == 201, joined.text
    return vendor, joined.json()


@pytest.mark.parametrize("status", ["suspended", "archived"])
def test_a_closed_vendors_contact_is_shut_out(
    owner_api: ApiClient, smtp: SmtpServer, status: str
) -> None:
    vendor, contact = contact_of(owner_api, smtp, "vera@bolt.example.com")
    access = contact["access_token"]
    assert owner_api.patch(PROFILE, json={"phone": "123"}, token=access).status_code == 200
    closed = owner_api.patch(f"/api/v1/vendors/{vendor['id']}", json={"status": status})
    assert closed.status_code == 200
    # Refresh: revoked at once. Login into that membership: refused, naming why.
    refreshed = owner_api.post(
        "/api/v1/auth/refresh", json={"refresh_token": contact["refresh_token"]}, token=""
    )
    assert refreshed.status_code == 401
    login = owner_api.post(
        LOGIN, json={"email": "vera@bolt.example.com", "password": PASSWORD}, token=""
    )
    assert login.status_code == 403
    assert status in login.json()["error"]["message"]
    # The access token still issued may read (for at most ACCESS_TOKEN_TTL), not write.
    assert owner_api.get(PROFILE, token=access).status_code == 200
    written = owner_api.patch(PROFILE, json={"phone": "456"}, token=access)
    assert written.status_code == 403
    assert status in written.json()["error"]["message"]
    assert owner_api.get(f"/api/v1/vendors/{vendor['id']}").json()["phone"] == "123"
    if status == "suspended":  # reactivating lets the contact back in
        back = owner_api.patch(f"/api/v1/vendors/{vendor['id']}", json={"status": "active"})
        assert back.status_code == 200
        again = owner_api.post(
            LOGIN, json={"email": "vera@bolt.example.com", "password": PASSWORD}, token=""
        )
        assert again.status_code == 200


def test_a_closed_vendors_invitation_cannot_be_accepted(
    owner_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor = create_vendor(owner_api, owner_api.token or "")
    invite(owner_api, vendor["id"])
    token = token_in(receive(owner_api, smtp, 1)[0])
    suspended = owner_api.patch(f"/api/v1/vendors/{vendor['id']}", json={"status": "suspended"})
    assert suspended.status_code == 200
    assert accept(owner_api, token).status_code == 410
    assert owner_api.get(f"/api/v1/vendors/{vendor['id']}").json()["status"] == "suspended"


@pytest.mark.parametrize("start", ["draft", "invited"])
def test_only_a_vendor_that_was_active_can_be_reactivated(
    owner_api: ApiClient, smtp: SmtpServer, start: str
) -> None:
    vendor = create_vendor(owner_api, owner_api.token or "")
    if start == "invited":
        invite(owner_api, vendor["id"])
    url = f"/api/v1/vendors/{vendor['id']}"
    assert owner_api.patch(url, json={"status": "suspended"}).status_code == 200
    refused = owner_api.patch(url, json={"status": "active"})
    assert refused.status_code == 409
    assert owner_api.get(url).json()["status"] == "suspended"


def test_a_deleted_vendors_contact_can_be_invited_again(
    owner_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor, _ = contact_of(owner_api, smtp, "vera@bolt.example.com")
    assert owner_api.delete(f"/api/v1/vendors/{vendor['id']}").status_code == 204
    members = owner_api.get("/api/v1/members", params={"role": "vendor"}).json()["items"]
    assert members == []
    again = create_vendor(owner_api, owner_api.token or "", contact_email="vera@bolt.example.com")
    invite(owner_api, again["id"])
    token = token_in(receive(owner_api, smtp, 2)[-1])
    joined = owner_api.post(ACCEPT, json={"token": token, "password": PASSWORD}, token="")
    assert joined.status_code == 201, joined.text
    assert joined.json()["vendor"]["id"] == again["id"]
    assert joined.json()["vendor"]["status"] == "active"


def test_parallel_wrong_logins_never_pass_the_limit(settings: Settings) -> None:
    app = make_app(settings.replace(LOGIN_MAX_FAILURES_PER_EMAIL=3))
    with ApiClient(app) as api:
        signup(api, email="target@acme.example.com")
        wrong = {"json": {"email": "target@acme.example.com", "password": "not it, not it"}}
        statuses = Counter(r.status_code for r in api.concurrently(*[("post", LOGIN, wrong)] * 30))
        assert statuses[401] <= 3, statuses
        assert statuses[429] >= 27, statuses
        assert set(statuses) <= {401, 429}, statuses


def test_a_spam_run_stops_at_the_limits(owner_api: ApiClient, smtp: SmtpServer) -> None:
    """The run that delivered 25 emails to one victim in ~10 s: invite, then resend as
    fast as possible. Now the per-invitation resend limit stops it."""
    vendor = create_vendor(owner_api, owner_api.token or "", contact_email="victim@x.example.com")
    invitation = invite(owner_api, vendor["id"], message="URGENT: verify https://evil.example")
    answers = Counter(
        owner_api.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code
        for _ in range(24)
    )
    assert answers == {202: 5, 429: 19}, answers

    async def all_sent() -> bool:
        return not await OutboxEmail.exists(status="queued")

    owner_api.wait_until(all_sent)
    sent = owner_api.run(
        OutboxEmail.filter(to_address="victim@x.example.com", status="sent").count()
    )
    owner_api.wait_until(lambda: len(smtp.messages) >= sent)
    delivered = [m for m in smtp.messages if m["To"] == "victim@x.example.com"]
    # At most the first email and five resends (a resend may cancel one still queued).
    assert 1 <= len(delivered) == sent <= 6
    assert "URGENT" not in smtp.messages[0]["Subject"]


def test_one_address_receives_a_bounded_number_per_day(
    settings: Settings, smtp: SmtpServer
) -> None:
    app = make_app(settings.replace(EMAILS_PER_RECIPIENT_PER_DAY=3))
    with ApiClient(app) as api:
        answers = []
        for n in range(5):  # five organisations, one invitation each, to one address
            token = signup(api, org=f"Org {n}")["access_token"]
            vendor = create_vendor(api, token, contact_email="Victim@X.example.com")
            answers.append(
                api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}, token=token)
            )
        assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
        assert 0 < int(answers[-1].headers["Retry-After"]) <= 24 * 3600


def test_an_organisation_sends_a_bounded_number_per_hour(settings: Settings) -> None:
    app = make_app(settings.replace(INVITATIONS_PER_ORG_PER_HOUR=3))
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        statuses = []
        for _ in range(4):
            vendor = create_vendor(api, api.token)
            statuses.append(
                api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}).status_code
            )
        assert statuses == [202, 202, 202, 429]
        # A refused attempt changed nothing: no invitation, no email, the vendor a draft.
        assert api.get(f"/api/v1/vendors/{vendor['id']}").json()["status"] == "draft"
        assert (
            api.get("/api/v1/invitations", params={"vendor_id": vendor["id"]}).json()["items"] == []
        )


@pytest.mark.serial  # measures a login against the time of one hash on this machine
def test_abandoned_signups_leave_a_real_login_fast(settings: Settings) -> None:
    """200 signups at once from clients with little patience, with production-strength
    hashes: the bounded hashing queue refuses what it cannot start soon (503 at once, in
    time for a client that waits no longer than this machine takes to carry 200 requests),
    nothing else fails, and a real login right after the burst waits behind at most the
    queue's few hashes, not the burst's. (That a waiting hash whose client left never
    runs is `tests/test_executor.py`.)"""
    strong = settings.replace(
        ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536, ARGON2_PARALLELISM=4, HASH_QUEUE_MAX=4
    )
    with ApiClient(make_app(strong)) as api:
        signup(api, email="real@acme.example.com")
        # One login on its own: how long a production-strength hash takes on this machine.
        started = time.perf_counter()
        login = api.post(
            LOGIN, json={"email": "real@acme.example.com", "password": PASSWORD}, token=""
        )
        alone = time.perf_counter() - started
        assert login.status_code == 200, login.text

        url = httpx.URL(api.base_url)
        payload = b'{"password": "bot password 123", "full_name": "Bot", '
        payload += b'"organization_name": "Bots", "email": "bot%d@spam.example.com"}'

        def signup_request(n: int) -> bytes:
            body = payload % n
            return (
                b"POST /api/v1/auth/signup HTTP/1.1\r\nHost: %s\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s"
            ) % (url.host.encode(), len(body), body)

        async def bot(request: bytes, patience: float) -> tuple[int, bytes] | None:
            """One request from a client that gives up after `patience` seconds: the
            status and the response head, or None when it gave up. A bare socket each,
            not httpx: the bots share the server's event loop, and httpx's connection
            pool with 200 connections checks every connection on every request (3
            million calls for one burst), which measured the clients rather than the
            server."""
            writer = None
            try:
                async with asyncio.timeout(patience):
                    reader, writer = await asyncio.open_connection(url.host, url.port)
                    writer.write(request)
                    response = await reader.read()  # to the end: the server closes
            except TimeoutError:
                return None
            finally:
                if writer is not None:
                    writer.close()
            head = response.split(b"\r\n\r\n", 1)[0].lower()
            return int(head.split(b" ", 2)[1]), head

        async def burst(requests: list[bytes], patience: float) -> list[tuple[int, bytes] | None]:
            return await asyncio.gather(*(bot(request, patience) for request in requests))

        # How long this machine takes to carry 200 clients at once through this loop to
        # an error answer (401, the same response path as a refusal): the bots give up
        # after no more than a bound on that, so a refusal at once reaches them however
        # fast the machine, and a hash that has to wait its turn does not.
        unauthenticated = b"GET /api/v1/me HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
        started = time.perf_counter()
        carried = api.run(burst([unauthenticated % url.host.encode()] * 200, patience=60))
        patience = deadline(time.perf_counter() - started)
        assert all(a is not None and a[0] == 401 for a in carried), carried

        answers = api.run(burst([signup_request(n) for n in range(200)], patience))
        refused = [a for a in answers if a is not None and a[0] == 503]
        # Some were refused at once; the rest were served or gave up.
        assert refused, Counter(a and a[0] for a in answers)
        assert all(b"\r\nretry-after: 1\r\n" in head + b"\r\n" for _, head in refused)
        # Each was refused at once, served in time, or given up on: none failed.
        assert all(a is None or a[0] in {201, 503} for a in answers), Counter(
            a and a[0] for a in answers
        )
        started = time.perf_counter()
        login = api.post(
            LOGIN, json={"email": "real@acme.example.com", "password": PASSWORD}, token=""
        )
        seconds = time.perf_counter() - started
        assert login.status_code == 200, login.text
        # Behind at most the hashes running and queued, and its own (on this machine's
        # cores, as many hashes of work): never behind the burst's 200.
        ahead = strong.HASH_WORKERS + strong.HASH_QUEUE_MAX
        assert seconds < deadline((ahead + 1) * alone), (seconds, alone)
        # Nothing was left behind: no queued hash (a bot's hash that had started when its
        # client left runs to its end, a fraction of a second), and the bots that were
        # refused or left before their hash started have no account.
        executor = api.app.ctx.context.executor
        api.wait_until(lambda: executor.in_flight == 0, timeout=2.0)
        bots = api.run(User.filter(email__startswith="bot").count())
        assert bots <= 200 - len(refused)


def test_a_full_hashing_pool_refuses_signups_and_logins_before_the_database(
    settings: Settings,
) -> None:
    """With every hashing thread busy and no room to wait, a signup and a login are
    refused (503, Retry-After) before they touch the database: the refused signup did
    not count toward its address's limit of one, so the same address signs up once the
    pool is free.
    """
    app = make_app(settings.replace(HASH_WORKERS=1, HASH_QUEUE_MAX=0, SIGNUP_MAX_PER_IP=1))
    with ApiClient(app) as api:
        executor = api.app.ctx.context.executor
        release = threading.Event()
        busy = api.loop.create_task(executor.run(release.wait, 10.0))
        api.wait_until(lambda: executor.in_flight == 1, timeout=2.0)
        body = {
            "email": "first@x.example.com",
            "password": PASSWORD,
            "full_name": "F",
            "organization_name": "F",
        }
        refused = api.post("/api/v1/auth/signup", json=body, token="")
        login = api.post(LOGIN, json={"email": "a@x.example.com", "password": PASSWORD}, token="")
        release.set()
        api.run(busy)
        assert [refused.status_code, login.status_code] == [503, 503], refused.text
        assert refused.headers["Retry-After"] == login.headers["Retry-After"] == "1"
        assert api.post("/api/v1/auth/signup", json=body, token="").status_code == 201


def test_signups_are_limited_per_client_address(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(SIGNUP_MAX_PER_IP=3))) as api:
        for _ in range(3):
            signup(api)
        refused = api.post(
            "/api/v1/auth/signup",
            json={
                "email": "four@x.example.com",
                "password": PASSWORD,
                "full_name": "F",
                "organization_name": "F",
            },
            token="",
        )
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
