"""Verified senders, and one address, one account: through HTTP with real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import LOOKUP, invite, receive
from tests.support.smtp import SmtpServer, token_in

VERIFY = "/api/v1/auth/verify"
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def api(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings)) as client:
        yield client


def confirmation_token(api: ApiClient, smtp: SmtpServer, address: str) -> str:
    api.wait_until(lambda: smtp.fresh_confirmation(address))
    return smtp.confirmation_token(address)


def login(api: ApiClient, email: str, password: str = PASSWORD) -> Any:
    return api.post(LOGIN, json={"email": email, "password": password}, token="")


def test_an_unconfirmed_owner_cannot_invite_until_the_address_is_confirmed(
    api: ApiClient, smtp: SmtpServer
) -> None:
    owner = signup(api, email="olive@acme.example.com", confirmed=False)
    assert owner["user"]["email_verified"] is False
    api.token = owner["access_token"]
    vendor = create_vendor(api, api.token)  # everything else works
    refused = api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={})
    assert refused.status_code == 403
    assert "Confirm your email address" in refused.json()["error"]["message"]
    teammate = api.post(
        "/api/v1/invitations", json={"email": "t@acme.example.com", "role": "member"}
    )
    assert teammate.status_code == 403
    token = confirmation_token(api, smtp, "olive@acme.example.com")
    assert api.post(VERIFY, json={"token": token}, token="").status_code == 204
    assert api.post(VERIFY, json={"token": token}, token="").status_code == 410  # single use
    assert api.get("/api/v1/me").json()["user"]["email_verified"] is True
    assert api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}).status_code == 202
    events = api.run(AuditEvent.filter(action="user.email_verified").count())
    assert events == 1
    again = api.post("/api/v1/auth/verify/resend")
    assert again.status_code == 409


def test_a_new_confirmation_email_replaces_the_old_link(api: ApiClient, smtp: SmtpServer) -> None:
    owner = signup(api, email="olive@acme.example.com", confirmed=False)
    first = confirmation_token(api, smtp, "olive@acme.example.com")
    resent = api.post("/api/v1/auth/verify/resend", token=owner["access_token"])
    assert resent.status_code == 202
    second = confirmation_token(api, smtp, "olive@acme.example.com")
    assert api.post(VERIFY, json={"token": first}, token="").status_code == 410
    assert api.post(VERIFY, json={"token": second}, token="").status_code == 204


def test_an_invitation_token_beats_a_squatter(api: ApiClient, smtp: SmtpServer) -> None:
    squatter = signup(api, email="vera@bolt.example.com", org="Squat", confirmed=False)
    assert squatter["user"]["email_verified"] is False
    api.token = signup(api, email="olive@acme.example.com")["access_token"]
    # The real contact's address is taken by an unconfirmed account: signup says so.
    taken = api.post(
        "/api/v1/auth/signup",
        json={"email": "vera@bolt.example.com", "password": PASSWORD, "full_name": "Vera",
              "organization_name": "Bolt"},
        token="",
    )  # fmt: skip
    assert taken.status_code == 409
    assert "waiting for confirmation" in taken.json()["error"]["message"]
    vendor = create_vendor(api, api.token, contact_email="vera@bolt.example.com")
    invite(api, vendor["id"])
    token = token_in(receive(api, smtp, 1)[0])
    assert api.get(LOOKUP, params={"token": token}, token="").json()["account_exists"] is False
    joined = api.post(
        "/api/v1/invitations/accept",
        json={"token": token, "full_name": "Vera Vendor", "password": "vera's own password"},
        token="",
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["user"]["id"] != squatter["user"]["id"]
    assert joined.json()["user"]["email_verified"] is True
    assert login(api, "vera@bolt.example.com").status_code == 401  # the squatter's password
    assert login(api, "vera@bolt.example.com", "vera's own password").status_code == 200
    released = api.run(User.get(id=squatter["user"]["id"]))
    assert released.email == f"{squatter['user']['id']}@released.invalid"
    [event] = api.run(AuditEvent.filter(action="user.address_released").values())
    assert str(event["target_id"]) == squatter["user"]["id"]
    assert event["changes"]["email"] == [
        "vera@bolt.example.com",
        f"{squatter['user']['id']}@released.invalid",
    ]


def test_the_mailbox_owner_releases_the_address(api: ApiClient, smtp: SmtpServer) -> None:
    squatter = signup(api, email="vera@bolt.example.com", org="Squat", confirmed=False)
    token = confirmation_token(api, smtp, "vera@bolt.example.com")
    assert api.post(VERIFY, json={"token": token, "release": True}, token="").status_code == 204
    refreshed = api.post(
        "/api/v1/auth/refresh", json={"refresh_token": squatter["refresh_token"]}, token=""
    )
    assert refreshed.status_code == 401  # signed out everywhere
    assert login(api, "vera@bolt.example.com").status_code == 401
    mine = signup(api, email="vera@bolt.example.com", org="Bolt")
    assert mine["organization"]["name"] == "Bolt"


def test_a_confirmed_address_is_never_released(api: ApiClient, smtp: SmtpServer) -> None:
    signup(api, email="olive@acme.example.com", confirmed=False)
    token = confirmation_token(api, smtp, "olive@acme.example.com")
    assert api.post(VERIFY, json={"token": token}, token="").status_code == 204
    assert api.post(VERIFY, json={"token": token, "release": True}, token="").status_code == 410
    assert login(api, "olive@acme.example.com").status_code == 200


@pytest.mark.parametrize(
    "variant",
    ["ALICE@EXAMPLE.COM", "Alice@example.com", "\uff41\uff4c\uff49\uff43\uff45@example.com"],
)
def test_case_and_width_variants_are_one_account(api: ApiClient, variant: str) -> None:
    signup(api, email="alice@example.com")
    twin = api.post(
        "/api/v1/auth/signup",
        json={
            "email": variant,
            "password": PASSWORD,
            "full_name": "Twin",
            "organization_name": "T",
        },
        token="",
    )
    assert twin.status_code == 409, twin.text
    signed_in = login(api, variant)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == "alice@example.com"  # as first typed


def test_case_and_width_variants_are_one_vendor_contact(api: ApiClient) -> None:
    api.token = signup(api)["access_token"]
    create_vendor(api, api.token, contact_email="Vera@Bolt.example.com")
    twin = api.post(
        "/api/v1/vendors",
        json={"name": "Twin", "contact_email": "\uff56era@bolt.example.com"},
    )
    assert twin.status_code == 409, twin.text
