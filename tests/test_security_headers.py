"""Headers on every response: nosniff and no referrer everywhere, HSTS when configured,
no-store on token answers (the test client checks that on every answer of the suite)."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import create_vendor, signup
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here


def test_every_kind_of_response_carries_the_headers(api: ApiClient) -> None:
    token = signup(api)["access_token"]
    responses = [
        api.get("/ready"),
        api.get("/api/v1/vendors", token=token),
        api.get("/api/v1/vendors"),  # 401
        api.get("/nope"),  # 404
        api.request("put", "/api/v1/vendors", token=token, check_contract=False),  # 405
        api.post("/api/v1/vendors", json={"name": ""}, token=token),  # 422
        api.get("/docs/openapi.json"),
    ]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert response.headers["Referrer-Policy"] == "no-referrer", response.url
        assert "Strict-Transport-Security" not in response.headers  # off by default


def test_hsts_when_configured(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(HSTS_SECONDS=31_536_000))) as api:
        response = api.get("/ready")
        assert (
            response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        )


def test_token_answers_are_not_stored(api: ApiClient) -> None:
    created = api.post(
        "/api/v1/auth/signup",
        json={"email": "s@example.com", "password": "a long password", "full_name": "S",
              "organization_name": "S"},
        token="",
    )  # fmt: skip
    assert created.headers["Cache-Control"] == "no-store"
    refreshed = api.post(
        "/api/v1/auth/refresh", json={"refresh_token": created.json()["refresh_token"]}, token=""
    )
    assert refreshed.headers["Cache-Control"] == "no-store"


def test_what_is_answered_to_a_caller_is_not_stored_and_public_documents_are_cached(
    api: ApiClient,
) -> None:
    """One rule in the response path: an answer made for an authenticated caller carries
    `no-store` (their errors too); what anyone may read keeps its own caching."""
    token = signup(api)["access_token"]
    vendor = create_vendor(api, token)
    personal = [
        api.get("/api/v1/me", token=token),
        api.get("/api/v1/vendors", token=token),
        api.get(f"/api/v1/vendors/{vendor['id']}", token=token),
        api.get(f"/api/v1/vendors/{vendor['id']}/invitations", token=token),
        api.get("/api/v1/vendors/00000000-0000-0000-0000-000000000000", token=token),  # 404
    ]
    for response in personal:
        assert response.headers["Cache-Control"] == "no-store", response.url
    public = [
        api.get("/ready"),
        api.get("/health"),
        api.get("/docs/openapi.json"),
        api.get("/static/onramp.css", check_contract=False),
        api.get("/api/v1/vendors"),  # 401: nobody's
    ]
    for response in public:
        assert "no-store" not in response.headers.get("Cache-Control", ""), response.url
    stylesheet = public[3]
    assert stylesheet.status_code == 200
    assert stylesheet.headers.get("ETag") or stylesheet.headers.get("Last-Modified")
