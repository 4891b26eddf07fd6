"""Helpers that go through the public API, like a client would."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.client import ApiClient

PASSWORD = "correct horse battery"
_counter = itertools.count()


def signup(api: ApiClient, email: str | None = None, org: str = "Acme") -> dict[str, Any]:
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
    return body


def create_vendor(api: ApiClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Vendor", "contact_email": f"v{next(_counter)}@vendor.example.com", **fields}
    response = api.post("/api/v1/vendors", json=payload, token=token)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
