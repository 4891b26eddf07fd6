"""Invitations end to end in one process: real SMTP (aiosmtpd), real HTTP, real database."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.accounts.models import Membership
from app.invitations.jobs import expire_due
from app.invitations.mail import InvitationMail
from app.invitations.models import Invitation
from app.mail import outbox
from app.mail.models import OutboxEmail, OutboxStatus
from app.settings import Settings
from app.vendors.models import Vendor
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import (
    ACCEPT,
    LOOKUP,
    accept,
    invitation_status_is,
    invite,
    receive,
)
from tests.support.net import free_port
from tests.support.smtp import SmtpServer, html_of, smtp_settings, text_of, token_in


@pytest.fixture
def mail_api(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings)) as client:
        client.token = signup(client, org="Acme & <Sons>")["access_token"]
        yield client


def test_invite_email_lookup_accept_then_token_is_spent(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor = create_vendor(
        mail_api, mail_api.token or "", name="Bolt <b>Co</b>", contact_email="vera@bolt.example.com"
    )
    invitation = invite(mail_api, vendor["id"], message="Welcome <script>alert(1)</script>")
    assert invitation["status"] == "pending"
    assert invitation["email"] == "vera@bolt.example.com"
    assert mail_api.get(f"/api/v1/vendors/{vendor['id']}").json()["status"] == "invited"

    [email] = receive(mail_api, smtp, 1)
    assert email["To"] == "vera@bolt.example.com"
    assert email["Message-ID"].startswith("<")
    assert email["Message-ID"].endswith(">")
    assert "Acme & <Sons>" in email["Subject"]
    token = token_in(email)
    assert f"https://onramp.example.com/invite?token={token}" in text_of(email)
    html = html_of(email)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "Acme &amp; &lt;Sons&gt;" in html
    assert "Bolt &lt;b&gt;Co&lt;/b&gt;" in html
    mail_api.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))

    looked_up = mail_api.get(LOOKUP, params={"token": token}, token="")
    assert looked_up.status_code == 200
    assert looked_up.json()["organization_name"] == "Acme & <Sons>"
    assert looked_up.json()["vendor_name"] == "Bolt <b>Co</b>"
    assert looked_up.json()["email"] == "vera@bolt.example.com"

    accepted = accept(mail_api, token)
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["vendor"]["status"] == "active"
    assert body["user"]["email"] == "vera@bolt.example.com"
    contact_token = body["access_token"]
    me = mail_api.get("/api/v1/me", token=contact_token).json()
    assert me["role"] == "vendor"
    assert me["vendor_id"] == vendor["id"]

    listed = mail_api.get(f"/api/v1/vendors/{vendor['id']}/invitations").json()["items"]
    assert [i["status"] for i in listed] == ["accepted"]

    assert accept(mail_api, token).status_code == 410  # single use
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 410

    # The contact can sign in and keep their own profile up to date, nothing more.
    login = mail_api.post(
        "/api/v1/auth/login",
        json={"email": "vera@bolt.example.com", "password": PASSWORD},
        token="",
    )
    contact = login.json()["access_token"]
    profile = mail_api.get("/api/v1/vendor-profile", token=contact)
    assert profile.status_code == 200
    assert "notes" not in profile.json()
    patched = mail_api.patch("/api/v1/vendor-profile", json={"phone": "+1 555 0100"}, token=contact)
    assert patched.json()["phone"] == "+1 555 0100"
    assert (
        mail_api.patch("/api/v1/vendor-profile", json={"notes": "x"}, token=contact).status_code
        == 422
    )
    assert mail_api.get("/api/v1/vendors", token=contact).status_code == 403
    assert mail_api.get("/api/v1/vendor-profile").status_code == 403  # owner has no profile


def test_token_is_stored_only_as_a_hash(mail_api: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    row = mail_api.run(OutboxEmail.get(ref_id=invitation["id"]))
    [email] = receive(mail_api, smtp, 1)
    token = token_in(email)
    stored = mail_api.run(Invitation.get(id=invitation["id"]))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 32 random bytes, URL-safe
    assert token not in str(row.secret)
    assert token not in str(row.context)
    mail_api.wait_until(lambda: OutboxEmail.exists(id=row.id, status="sent"))
    sent_row = mail_api.run(OutboxEmail.get(id=row.id))
    assert sent_row.secret is None  # the sealed token is erased once sent


@pytest.mark.parametrize("token", ["x" * 43, "", "short"])
def test_wrong_token_is_410_or_422(mail_api: ApiClient, token: str) -> None:
    response = mail_api.get(LOOKUP, params={"token": token}, token="")
    assert response.status_code == (410 if len(token) >= 16 else 422)
    assert accept(mail_api, token).status_code == (410 if len(token) >= 16 else 422)


def test_one_open_invitation_per_vendor(mail_api: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    first = invite(mail_api, vendor["id"])
    second = mail_api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={})
    assert second.status_code == 409
    revoked = mail_api.post(f"/api/v1/invitations/{first['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert mail_api.post(f"/api/v1/invitations/{first['id']}/revoke").status_code == 409
    assert mail_api.get(f"/api/v1/vendors/{vendor['id']}").json()["status"] == "draft"
    invite(mail_api, vendor["id"], email="other.person@bolt.example.com")


def test_revoked_token_is_410(mail_api: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    mail_api.post(f"/api/v1/invitations/{invitation['id']}/revoke")
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 410
    assert accept(mail_api, token).status_code == 410
    assert mail_api.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 409


def test_resend_sends_a_new_token_and_kills_the_old(mail_api: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    old = token_in(receive(mail_api, smtp, 1)[0])
    resent = mail_api.post(f"/api/v1/invitations/{invitation['id']}/resend")
    assert resent.status_code == 202
    assert resent.json()["status"] == "pending"
    new = token_in(receive(mail_api, smtp, 2)[1])
    assert new != old
    assert mail_api.get(LOOKUP, params={"token": old}, token="").status_code == 410
    assert accept(mail_api, old).status_code == 410
    assert accept(mail_api, new).status_code == 201
    assert mail_api.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 409


def test_expired_token_is_410_and_the_expiry_job_marks_it(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    past = datetime.now(UTC) - timedelta(seconds=1)
    mail_api.run(Invitation.filter(id=invitation["id"]).update(expires_at=past))
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 410
    assert accept(mail_api, token).status_code == 410
    assert mail_api.run(expire_due()) == 1
    assert mail_api.run(expire_due()) == 0  # idempotent
    assert mail_api.run(Invitation.get(id=invitation["id"])).status == "expired"
    invite(mail_api, vendor["id"])  # an expired invitation is not open


def test_accept_validates_the_password_of_a_new_account(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    short = mail_api.post(
        ACCEPT, json={"token": token, "full_name": "V", "password": "short"}, token=""
    )
    assert short.status_code == 422
    assert "password" in [d["field"] for d in short.json()["error"]["details"]]
    nameless = mail_api.post(ACCEPT, json={"token": token, "password": PASSWORD}, token="")
    assert nameless.status_code == 422
    assert [d["field"] for d in nameless.json()["error"]["details"]] == ["full_name"]
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 200  # not spent


def test_an_existing_account_accepts_with_its_password(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    elsewhere = signup(mail_api, email="taken@bolt.example.com", org="Elsewhere")
    vendor = create_vendor(mail_api, mail_api.token or "", contact_email="taken@bolt.example.com")
    invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    looked_up = mail_api.get(LOOKUP, params={"token": token}, token="").json()
    assert looked_up["account_exists"] is True
    wrong = mail_api.post(ACCEPT, json={"token": token, "password": "not the password"}, token="")
    assert wrong.status_code == 401
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 200  # not spent
    joined = mail_api.post(ACCEPT, json={"token": token, "password": PASSWORD}, token="")
    assert joined.status_code == 201, joined.text
    body = joined.json()
    assert body["user"]["id"] == elsewhere["user"]["id"]
    assert body["role"] == "vendor"
    assert body["vendor"]["status"] == "active"
    assert {m["organization"]["name"] for m in body["memberships"]} == {
        "Elsewhere",
        "Acme & <Sons>",
    }
    assert mail_api.get(LOOKUP, params={"token": token}, token="").status_code == 410


def test_other_organisations_cannot_touch_invitations(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    rival = signup(mail_api, org="Rival")["access_token"]
    for response in (
        mail_api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}, token=rival),
        mail_api.get(f"/api/v1/vendors/{vendor['id']}/invitations", token=rival),
        mail_api.post(f"/api/v1/invitations/{invitation['id']}/resend", token=rival),
        mail_api.post(f"/api/v1/invitations/{invitation['id']}/revoke", token=rival),
    ):
        assert response.status_code == 404


def test_archived_vendor_cannot_be_invited(mail_api: ApiClient) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    mail_api.patch(f"/api/v1/vendors/{vendor['id']}", json={"status": "archived"})
    response = mail_api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={})
    assert response.status_code == 409


def test_smtp_down_at_first_then_up_delivers_after_a_retry(settings: Settings) -> None:
    port = free_port()  # nothing listens there yet
    app = make_app(
        settings.replace(
            **smtp_settings(port), DISPATCH_POLL_INTERVAL=0.1, DISPATCH_BACKOFF_BASE=0.3
        )
    )
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        vendor = create_vendor(api, api.token)
        invitation = invite(api, vendor["id"])
        api.wait_until(
            lambda: OutboxEmail.exists(ref_id=invitation["id"], last_error__isnull=False)
        )
        row = api.run(OutboxEmail.get(ref_id=invitation["id"]))
        assert row.status == "queued"
        assert "Connect" in (row.last_error or "")
        with SmtpServer(port=port) as smtp:
            [email] = receive(api, smtp, 1)
            assert email["To"] == vendor["contact_email"]
            api.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))
        assert api.run(OutboxEmail.get(id=row.id)).attempts >= 2


@pytest.mark.parametrize(
    ("reply", "attempts"), [("451 4.3.0 mailbox busy", 3), ("550 5.1.1 no such user", 1)]
)
def test_smtp_failing_marks_the_invitation_failed_with_the_reason(
    settings: Settings, reply: str, attempts: int
) -> None:
    with SmtpServer(reply=reply) as smtp:
        app = make_app(
            settings.replace(
                **smtp_settings(smtp.port),
                DISPATCH_POLL_INTERVAL=0.05,
                DISPATCH_BACKOFF_BASE=0.05,
                DISPATCH_MAX_ATTEMPTS=3,
            )
        )
        with ApiClient(app) as api:
            api.token = signup(api)["access_token"]
            vendor = create_vendor(api, api.token)
            invitation = invite(api, vendor["id"])
            api.wait_until(lambda: invitation_status_is(invitation["id"], "failed"))
            listed = api.get(f"/api/v1/vendors/{vendor['id']}/invitations").json()["items"][0]
            assert listed["status"] == "failed"
            assert reply.split()[0] in listed["failure_reason"]
            row = api.run(OutboxEmail.get(ref_id=invitation["id"]))
            assert row.status == "failed"
            assert row.attempts == attempts
            assert row.secret is None
            assert smtp.recorder.refused_to[vendor["contact_email"]] == attempts
            # The audit log says so once, by the dispatcher, in our words.
            [failed] = api.get(
                "/api/v1/audit-events",
                params={"action": "invitation.failed", "target_id": invitation["id"]},
            ).json()["items"]
            assert failed["actor"] is None
            assert failed["job"] == "mail.dispatcher"
            assert failed["changes"] == {"status": ["pending", "failed"]}
            invite(api, vendor["id"])  # a failed invitation is not open: a new one may go


def test_file_backend_writes_eml_files(settings: Settings, tmp_path: Any) -> None:
    outbox_dir = tmp_path / "mails"
    app = make_app(
        settings.replace(SMTP_HOST="", OUTBOX_DIR=str(outbox_dir), DISPATCH_POLL_INTERVAL=0.1)
    )
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        vendor = create_vendor(api, api.token)
        invite(api, vendor["id"])

        def invitations_written() -> list[str]:  # (the owner's confirmation is one too)
            texts = (path.read_text() for path in outbox_dir.glob("*.eml"))
            return [text for text in texts if "/invite?token=" in text]

        api.wait_until(lambda: len(invitations_written()) == 1)
        content = invitations_written()[0]
        assert vendor["contact_email"] in content
        # Beside it, the text a person reads, decoded: the link can be copied as it is.
        (eml,) = [p for p in outbox_dir.glob("*.eml") if "/invite?token=" in p.read_text()]
        text = eml.with_suffix(".txt").read_text()
        assert f"To: {vendor['contact_email']}" in text
        (link,) = re.findall(r"https?://\S+/invite\?token=\S+", text)
        token = link.split("token=", 1)[1]
        assert api.get("/api/v1/invitations/lookup", params={"token": token}).status_code == 200


def test_concurrent_claims_take_disjoint_rows(mail_api: ApiClient) -> None:
    postgres = mail_api.app.ctx.settings.uses_postgres

    async def scenario() -> list[list[int]]:
        await mail_api.app.ctx.context.supervisor.stop(timeout=5)  # no dispatcher competing here
        for n in range(30):
            await OutboxEmail.create(
                kind="invitation",
                to_address=f"c{n}@example.com",
                message_id=f"<{n}@test>",
                context={},
                next_attempt_at=datetime.now(UTC),
            )
        claims: list[list[int]] = []
        while True:  # four claimers at once, until nothing is left
            rounds = await asyncio.gather(
                *(outbox.claim(8, 60, postgres=postgres) for _ in range(4))
            )
            if not any(rounds):
                return claims
            claims += [[row.id for row in rows] for rows in rounds]

    claims = mail_api.run(scenario())
    claimed = [row_id for claim in claims for row_id in claim]
    assert len(claimed) == len(set(claimed)) == 30  # every row once, none twice
    # A row whose lease has run out is claimed again.
    expired = datetime.now(UTC) - timedelta(seconds=1)
    mail_api.run(OutboxEmail.filter(id=claimed[0]).update(claimed_until=expired))
    again = mail_api.run(outbox.claim(5, 60, postgres=postgres))
    assert [row.id for row in again] == [claimed[0]]


def test_outbox_depth_counts_queued_and_failed(mail_api: ApiClient) -> None:
    assert mail_api.run(outbox.depth()) == {"queued": 0, "failed": 0}
    mail_api.run(
        OutboxEmail.create(
            kind="x",
            to_address="a@example.com",
            message_id="<a@t>",
            context={},
            next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    mail_api.run(
        OutboxEmail.create(
            kind="x",
            to_address="b@example.com",
            message_id="<b@t>",
            context={},
            status=OutboxStatus.FAILED,
            next_attempt_at=datetime.now(UTC),
        )
    )
    assert mail_api.run(outbox.depth()) == {"queued": 1, "failed": 1}


def test_vendor_delete_removes_its_invitations(mail_api: ApiClient) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invite(mail_api, vendor["id"])
    assert mail_api.delete(f"/api/v1/vendors/{vendor['id']}").status_code == 204
    assert mail_api.run(Invitation.filter(vendor_id=vendor["id"]).count()) == 0
    assert mail_api.run(Vendor.filter(id=vendor["id"]).count()) == 0


def test_two_accepts_at_once_one_wins(mail_api: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(mail_api, mail_api.token or "")
    invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    body = {"token": token, "full_name": "Vera", "password": PASSWORD}
    responses = mail_api.concurrently(
        ("post", ACCEPT, {"json": body}), ("post", ACCEPT, {"json": body})
    )
    assert sorted(r.status_code for r in responses) == [201, 410]
    assert mail_api.run(Membership.filter(role="vendor").count()) == 1


def test_accept_signed_in_as_the_invited_account(mail_api: ApiClient, smtp: SmtpServer) -> None:
    invitee = signup(mail_api, email="signed.in@bolt.example.com", org="Own shop")
    stranger = signup(mail_api, email="stranger@example.com", org="Other")
    vendor = create_vendor(
        mail_api, mail_api.token or "", contact_email="signed.in@bolt.example.com"
    )
    invite(mail_api, vendor["id"])
    token = token_in(receive(mail_api, smtp, 1)[0])
    wrong_account = mail_api.post(ACCEPT, json={"token": token}, token=stranger["access_token"])
    assert wrong_account.status_code == 403
    joined = mail_api.post(ACCEPT, json={"token": token}, token=invitee["access_token"])
    assert joined.status_code == 201, joined.text
    assert joined.json()["organization"]["name"] == "Acme & <Sons>"
    me = mail_api.get("/api/v1/me", token=joined.json()["access_token"]).json()
    assert me["role"] == "vendor"
    assert me["vendor_id"] == vendor["id"]


def test_wrong_passwords_on_accept_count_toward_login_throttling(
    settings: Settings, smtp: SmtpServer
) -> None:
    app = make_app(settings.replace(**smtp_settings(smtp.port), LOGIN_MAX_FAILURES_PER_EMAIL=2))
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        signup(api, email="owner.of.it@bolt.example.com", org="Theirs")
        vendor = create_vendor(api, api.token, contact_email="owner.of.it@bolt.example.com")
        invite(api, vendor["id"])
        token = token_in(receive(api, smtp, 1)[0])
        for _ in range(2):
            wrong = api.post(ACCEPT, json={"token": token, "password": "guess guess"}, token="")
            assert wrong.status_code == 401
        throttled = api.post(ACCEPT, json={"token": token, "password": PASSWORD}, token="")
        assert throttled.status_code == 429
        assert api.get(LOOKUP, params={"token": token}, token="").status_code == 200  # not spent


def test_an_email_sent_while_a_resend_cancelled_it_counts_as_sent(
    mail_api: ApiClient, smtp: SmtpServer
) -> None:
    """A resend cancels the queued email while a worker is sending it: the row ends
    `sent` (it was), the stale email does not touch the invitation, which waits for
    the new email with the new token."""
    postgres = mail_api.app.ctx.settings.uses_postgres
    kind = InvitationMail("https://onramp.example.com")
    mail_api.run(mail_api.app.ctx.context.supervisor.stop(timeout=5))  # we are the worker
    vendor = create_vendor(mail_api, mail_api.token or "")
    invitation = invite(mail_api, vendor["id"])
    [first] = mail_api.run(outbox.claim(1, 60, postgres=postgres))
    assert mail_api.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 202
    outcome = mail_api.run(outbox.mark_sent(first, kind))
    assert outcome is outbox.SentOutcome.CANCELLED_MEANWHILE
    rows = mail_api.run(
        OutboxEmail.filter(ref_id=invitation["id"]).order_by("id").values_list("status", flat=True)
    )
    assert rows == [OutboxStatus.SENT, OutboxStatus.QUEUED]
    assert mail_api.run(outbox.depth()) == {"queued": 1, "failed": 0}
    assert mail_api.get(f"/api/v1/invitations/{invitation['id']}").json()["status"] == "pending"


def test_an_email_that_cannot_be_prepared_fails_in_our_own_words(
    settings: Settings, smtp: SmtpServer
) -> None:
    """A row that cannot be rendered (here: it has no token and no context) is retried,
    then failed; the invitation shows our wording, the exception stays with operators."""
    app = make_app(
        settings.replace(
            **smtp_settings(smtp.port),
            DISPATCH_POLL_INTERVAL=0.05,
            DISPATCH_BACKOFF_BASE=0.05,
            DISPATCH_MAX_ATTEMPTS=2,
        )
    )
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        vendor = create_vendor(api, api.token)
        invitation = invite(api, vendor["id"])
        api.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))
        stored = api.run(Invitation.get(id=invitation["id"]))
        broken = api.run(
            OutboxEmail.create(
                kind="invitation",
                ref_id=stored.id,
                ref_version=stored.token_hash,
                to_address=stored.email,
                message_id="<broken@test>",
                context={},
                next_attempt_at=datetime.now(UTC),
            )
        )
        api.wait_until(lambda: invitation_status_is(invitation["id"], "failed"))
        reason = api.get(f"/api/v1/invitations/{invitation['id']}").json()["failure_reason"]
        assert reason == "delivery failed after 2 attempt(s): the email could not be prepared"
        row = api.run(OutboxEmail.get(id=broken.id))
        assert row.status == "failed"
        assert (row.last_error or "").startswith("ValueError")  # for operators, not customers
