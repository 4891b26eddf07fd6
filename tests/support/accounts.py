"""Helpers that go through the public API, like a client would."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import httpx

from app.accounts import verification
from app.accounts.models import User
from app.mail.models import OutboxEmail, OutboxStatus
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer

PASSWORD = "correct horse battery"
_counter = itertools.count()


async def _confirm(user_id: str) -> None:
    """What the confirmation link does, and its email is then pointless: it is not sent."""
    await User.filter(id=user_id).update(email_verified_at=datetime.now(UTC))
    await OutboxEmail.filter(
        kind=verification.KIND, ref_id=user_id, status=OutboxStatus.QUEUED
    ).update(status=OutboxStatus.CANCELLED)


def signup(
    api: ApiClient, email: str | None = None, org: str = "Acme", *, confirmed: bool = True
) -> dict[str, Any]:
    """Sign up through the API. `confirmed`: the address is then marked confirmed, as its
    confirmation link would (the link itself is tested in tests/test_verification.py),
    so that the organisation may send invitations."""
    email = email or f"owner{next(_counter)}@example.com"
    response = api.post(
        "/api/v1/auth/signup",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Olive Owner",
            "organization_name": org,
        },
        token="",
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if confirmed:
        api.run(_confirm(body["user"]["id"]))
        body["user"]["email_verified"] = True
    return body


def create_vendor(api: ApiClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Vendor", "contact_email": f"v{next(_counter)}@vendor.example.com", **fields}
    response = api.post("/api/v1/vendors", json=payload, token=token)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def confirmed_owner(
    client: httpx.Client, smtp: SmtpServer, email: str, organization: str = "Acme"
) -> str:
    """Against a server in another process: sign up, then confirm the address with the
    token from its confirmation email, as a client would. Returns the access token."""
    created = client.post(
        "/api/v1/auth/signup",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Olive Owner",
            "organization_name": organization,
        },
    )
    assert created.status_code == 201, created.text
    confirmed = client.post("/api/v1/auth/verify", json={"token": smtp.confirmation_token(email)})
    assert confirmed.status_code == 204, confirmed.text
    return str(created.json()["access_token"])
