"""The audit log: one event per change, written with the change or not at all, read by
owners through HTTP with filters and pages, and never holding a secret."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.audit.models import AuditEvent
from app.invitations.models import Invitation
from app.settings import Settings
from app.vendors.models import Vendor
from tests.conftest import make_app
from tests.support import secrets
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import accept, invitation_status_is, invite, receive
from tests.support.smtp import SmtpServer, smtp_settings, text_of, token_in

EVENTS = "/api/v1/audit-events"
NEW_PASSWORD = "another fine passphrase"
RESET_LINK = re.compile(r"/reset\?token=([A-Za-z0-9_\-%]+)")


@pytest.fixture
def audited(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings.replace(EXPIRY_INTERVAL=0.1))) as client:
        client.token = signup(client, email="olive@acme.example.com", org="Acme")["access_token"]
        yield client


def events(api: ApiClient, **params: Any) -> list[dict[str, Any]]:
    response = api.get(EVENTS, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def only(found: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [event for event in found if event["action"] == action]
    assert len(matching) == 1, (action, matching)
    return matching[0]


def test_every_change_writes_exactly_one_event(audited: ApiClient, smtp: SmtpServer) -> None:
    api = audited
    olive = api.get("/api/v1/me").json()["user"]["id"]
    login = api.post(
        "/api/v1/auth/login",
        json={"email": "olive@acme.example.com", "password": PASSWORD},
        token="",
        headers={"X-Request-ID": "login-request-1"},
    )
    assert login.status_code == 200
    bad = {"email": "olive@acme.example.com", "password": "wrong password"}
    assert api.post("/api/v1/auth/login", json=bad, token="").status_code == 401

    vendor = create_vendor(api, api.token or "", name="Bolt", contact_email="vera@bolt.example.com")
    patched = api.patch(f"/api/v1/vendors/{vendor['id']}", json={"notes": "net 30"})
    assert patched.status_code == 200
    invitation = invite(api, vendor["id"])
    receive(api, smtp, 1)
    api.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))
    assert api.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 202
    resent_token = token_in(receive(api, smtp, 2)[1])
    # Received is not yet recorded: accepting first would make that `sent` a stale one.
    api.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))
    contact = accept(api, resent_token)
    assert contact.status_code == 201, contact.text
    vera = contact.json()["user"]["id"]
    profile = api.patch(
        "/api/v1/vendor-profile",
        json={"phone": "+44 20 7946 0000"},
        token=contact.json()["access_token"],
    )
    assert profile.status_code == 200, profile.text

    teammate = api.post(
        "/api/v1/invitations", json={"email": "tess@acme.example.com", "role": "member"}
    )
    api.wait_until(lambda: invitation_status_is(teammate.json()["id"], "sent"))
    assert api.post(f"/api/v1/invitations/{teammate.json()['id']}/revoke").status_code == 200
    tom_invitation = api.post(
        "/api/v1/invitations", json={"email": "tom@acme.example.com", "role": "member"}
    ).json()
    tom_token = token_in(receive(api, smtp, 4)[3])
    api.wait_until(lambda: invitation_status_is(tom_invitation["id"], "sent"))
    tom = accept(api, tom_token, name="Tom Teammate").json()["user"]["id"]
    assert api.patch(f"/api/v1/members/{tom}", json={"role": "owner"}).status_code == 200
    assert api.delete(f"/api/v1/members/{tom}").status_code == 204

    doomed = create_vendor(api, api.token or "", name="Doomed")
    late = invite(api, doomed["id"])
    api.wait_until(lambda: invitation_status_is(late["id"], "sent"))
    api.run(
        Invitation.filter(id=late["id"]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    api.wait_until(lambda: invitation_status_is(late["id"], "expired"))
    assert api.delete(f"/api/v1/vendors/{doomed['id']}").status_code == 204

    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api.post("/api/v1/auth/password", json=change).status_code == 204
    asked = api.post(
        "/api/v1/auth/password-reset",
        json={"email": "vera@bolt.example.com"},
        token="",
        headers={"X-Request-ID": "reset-request-1"},
    )
    assert asked.status_code == 202
    reset_mail = receive(api, smtp, 6)[5]
    reset_token = RESET_LINK.search(text_of(reset_mail))
    assert reset_token
    confirm = {"token": reset_token.group(1), "new_password": NEW_PASSWORD}
    assert (
        api.post("/api/v1/auth/password-reset/confirm", json=confirm, token="").status_code == 204
    )

    owner_token = api.post(
        "/api/v1/auth/login",
        json={"email": "olive@acme.example.com", "password": NEW_PASSWORD},
        token="",
    ).json()["access_token"]
    api.token = owner_token
    found = events(api)
    counts = Counter(event["action"] for event in found)
    assert counts == {
        "user.signed_up": 1,
        "user.login_succeeded": 2,  # the one above and the one that reads this log
        "user.password_changed": 1,
        "vendor.created": 2,
        "vendor.updated": 1,
        "vendor.deleted": 1,
        "vendor.profile_updated": 1,
        "invitation.created": 4,
        "invitation.sent": 5,  # vendor (twice: first and resent), teammates, late vendor
        "invitation.resent": 1,
        "invitation.revoked": 1,
        "invitation.accepted": 2,
        "invitation.expired": 1,
        "member.joined": 2,
        "member.role_changed": 1,
        "member.removed": 1,
    }, counts

    logged_in = [e for e in found if e["action"] == "user.login_succeeded"][-1]
    assert logged_in["actor"] == {"id": olive, "email": "olive@acme.example.com"}
    assert logged_in["request_id"] == "login-request-1"
    assert logged_in["ip"] == "127.0.0.1"
    updated = only(found, "vendor.updated")
    assert updated["target"] == {"type": "vendor", "id": vendor["id"]}
    assert updated["changes"] == {"notes": [None, "net 30"]}
    assert only(found, "vendor.profile_updated")["actor"]["id"] == vera
    assert only(found, "vendor.profile_updated")["changes"] == {"phone": [None, "+44 20 7946 0000"]}
    sent = [e for e in found if e["action"] == "invitation.sent"]
    assert all(e["actor"] is None and e["job"] == "mail.dispatcher" for e in sent)
    assert all(e["changes"] == {"status": ["pending", "sent"]} for e in sent)
    expired = only(found, "invitation.expired")
    assert expired["actor"] is None
    assert expired["job"] == "invitations.expiry"
    assert expired["target"] == {"type": "invitation", "id": late["id"]}
    accepted = [e for e in found if e["action"] == "invitation.accepted"]
    assert {e["actor"]["id"] for e in accepted} == {vera, tom}
    role = only(found, "member.role_changed")
    assert role["target"] == {"type": "member", "id": tom}
    assert role["changes"] == {"role": ["member", "owner"]}
    assert only(found, "member.removed")["changes"] == {"role": ["owner", None]}
    assert only(found, "vendor.deleted")["target"]["id"] == doomed["id"]

    # What belongs to a person and not to an organisation is kept without one.
    personal = api.run(
        AuditEvent.filter(organization_id__isnull=True).order_by("created_at").values()
    )
    assert [(e["action"], str(e["target_id"])) for e in personal] == [
        ("user.login_failed", olive),
        ("user.password_reset_requested", vera),
        ("user.password_reset", vera),
    ]
    requested = personal[1]
    assert requested["actor_id"] is None
    assert requested["request_id"] == "reset-request-1"  # who asked, recorded at send time
    assert requested["ip"] == "127.0.0.1"
    # The suite-wide check (ApiClient) scans every event for these on the way out; here
    # it is done on purpose once more, with the secrets named.
    used = {PASSWORD, NEW_PASSWORD, "wrong password", reset_token.group(1), *api.secrets}
    everything = api.run(AuditEvent.all().values())
    assert secrets.leaked(everything, used) == []


def test_the_leak_check_finds_a_secret(audited: ApiClient) -> None:
    """`secrets.leaked` is what the suite relies on: it must see a planted token."""
    refresh_token = audited.post(
        "/api/v1/auth/login",
        json={"email": "olive@acme.example.com", "password": PASSWORD},
        token="",
    ).json()["refresh_token"]
    assert refresh_token in audited.secrets
    planted = {"action": "planted", "changes": {"note": ["", f"copied {refresh_token}"]}}
    assert secrets.leaked([planted], audited.secrets) == [("planted", refresh_token)]


def test_a_change_that_fails_later_leaves_no_event(audited: ApiClient, smtp: SmtpServer) -> None:
    vendor = create_vendor(audited, audited.token or "")
    invitation = invite(audited, vendor["id"])
    audited.wait_until(lambda: invitation_status_is(invitation["id"], "sent"))  # no event due
    before = audited.run(AuditEvent.all().count())

    async def fail_after_the_changes(_vendor: Vendor, _actor: object) -> None:
        raise RuntimeError("forced failure after the invitation was revoked and logged")

    audited.app.ctx.context.vendors.on_close(fail_after_the_changes)
    failed = audited.delete(f"/api/v1/vendors/{vendor['id']}", check_contract=False)
    assert failed.status_code == 500
    assert audited.run(AuditEvent.all().count()) == before
    assert audited.run(Vendor.exists(id=vendor["id"]))
    assert audited.run(Invitation.get(id=invitation["id"])).status == "sent"


def test_filters_and_pages(audited: ApiClient) -> None:
    first = create_vendor(audited, audited.token or "", name="First")
    middle = datetime.now(UTC)
    second = create_vendor(audited, audited.token or "", name="Second")
    for n in range(3):
        audited.patch(f"/api/v1/vendors/{second['id']}", json={"notes": f"take {n}"})
    everything = events(audited)
    assert len(everything) == 6  # signed up, two created, three updated
    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = audited.get(EVENTS, params=params).json()
        paged.extend(event["id"] for event in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [event["id"] for event in everything]

    def ids(**params: Any) -> list[str]:
        return [event["id"] for event in events(audited, **params)]

    olive = audited.get("/api/v1/me").json()["user"]["id"]
    assert len(ids(action="vendor.updated")) == 3
    assert len(ids(actor_id=olive)) == 6
    assert len(ids(target_type="vendor")) == 5
    assert len(ids(target_type="vendor", target_id=first["id"])) == 1
    assert len(ids(since=middle.isoformat())) == 4
    assert len(ids(until=middle.isoformat())) == 2
    assert audited.get(EVENTS, params={"action": "nope"}).status_code == 422
    assert audited.get(EVENTS, params={"since": "yesterday"}).status_code == 422
    assert audited.get(EVENTS, params={"cursor": "!!"}).status_code == 422


def test_the_retention_job_deletes_old_events(settings: Settings, smtp: SmtpServer) -> None:
    app = make_app(
        settings.replace(
            **smtp_settings(smtp.port), AUDIT_RETENTION_DAYS=30, HOUSEKEEPING_INTERVAL=0.1
        )
    )
    with ApiClient(app) as api:
        api.token = signup(api)["access_token"]
        create_vendor(api, api.token)
        old = datetime.now(UTC) - timedelta(days=31)
        api.run(AuditEvent.filter(action="user.signed_up").update(created_at=old))

        async def gone() -> bool:
            return not await AuditEvent.exists(action="user.signed_up")

        api.wait_until(gone)
        assert api.run(AuditEvent.filter(action="vendor.created").count()) == 1
