"""Signup, login, tokens, throttling and the password executor, through HTTP."""

from __future__ import annotations

import threading
import time
import uuid

import jwt
import pytest

from app.accounts.models import Membership, Organization, User
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, signup
from tests.support.client import ApiClient


def test_signup_creates_user_organisation_and_owner_membership(api: ApiClient) -> None:
    body = signup(api, email="  Olive@Example.COM ", org="Acme Ltd")
    assert body["user"]["email"] == "Olive@example.com"  # trimmed, domain lower-cased
    assert body["organization"]["name"] == "Acme Ltd"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["role"] == "owner"
    assert claims["org"] == body["organization"]["id"]
    assert claims["sub"] == body["user"]["id"]
    assert claims["exp"] - claims["iat"] == 900
    assert body["user"]["created_at"].endswith("Z")

    async def rows() -> tuple[int, int, str]:
        membership = await Membership.get(user_id=body["user"]["id"])
        return await User.all().count(), await Organization.all().count(), membership.role

    assert api.run(rows()) == (1, 1, "owner")


def test_password_is_stored_as_argon2_hash(api: ApiClient) -> None:
    body = signup(api)
    user = api.run(User.get(id=body["user"]["id"]))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_duplicate_email_is_409_and_writes_nothing(api: ApiClient) -> None:
    signup(api, email="dup@example.com")
    response = api.post(
        "/api/v1/auth/signup",
        json={
            "email": "dup@EXAMPLE.com",
            "password": PASSWORD,
            "full_name": "X",
            "organization_name": "Other",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert api.run(Organization.all().count()) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"full_name": ""}, "full_name"),
        ({"organization_name": "x" * 201}, "organization_name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_signup_validation_is_422_naming_the_field(
    api: ApiClient, payload: dict[str, object], field: str
) -> None:
    body = {
        "email": "ok@example.com",
        "password": PASSWORD,
        "full_name": "A",
        "organization_name": "B",
        **payload,
    }
    response = api.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in [detail["field"] for detail in error["details"]]


def test_missing_fields_are_all_listed(api: ApiClient) -> None:
    response = api.post("/api/v1/auth/signup", json={})
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"email", "password", "full_name", "organization_name"}


def test_login_returns_a_token_for_the_right_password(api: ApiClient) -> None:
    signup(api, email="li@example.com")
    response = api.post(
        "/api/v1/auth/login", json={"email": "li@EXAMPLE.COM", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "user",
        "organization",
        "role",
        "memberships",
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
    }
    me = api.get("/api/v1/me", token=body["access_token"])
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "li@example.com"
    assert me.json()["role"] == "owner"


def test_unknown_email_and_wrong_password_get_the_same_401(api: ApiClient) -> None:
    signup(api, email="known@example.com")
    wrong = api.post(
        "/api/v1/auth/login", json={"email": "known@example.com", "password": "x" * 12}
    )
    unknown = api.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "unauthorized"


def test_me_needs_a_valid_token(api: ApiClient, settings: Settings) -> None:
    body = signup(api)
    assert api.get("/api/v1/me", token="").status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/api/v1/me", token="not.a.jwt").status_code == 401
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-of-sufficient-length-0123456789", algorithm="HS256")
    response = api.get("/api/v1/me", token=forged)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    expired = jwt.encode(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        settings.SECRET_KEY.get_secret_value(),
        algorithm="HS256",
    )
    assert api.get("/api/v1/me", token=expired).status_code == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert api.get("/api/v1/me", token=unsigned).status_code == 401


def test_token_for_a_deleted_account_is_404_on_me(api: ApiClient) -> None:
    body = signup(api)
    api.run(User.filter(id=body["user"]["id"]).delete())
    assert api.get("/api/v1/me", token=body["access_token"]).status_code == 404


def test_repeated_failures_for_one_email_get_429_with_retry_after(settings: Settings) -> None:
    app = make_app(settings.replace(LOGIN_MAX_FAILURES_PER_EMAIL=3, LOGIN_WINDOW_SECONDS=600))
    with ApiClient(app) as api:
        signup(api, email="victim@example.com")
        for _ in range(3):
            response = api.post(
                "/api/v1/auth/login", json={"email": "victim@example.com", "password": "x" * 12}
            )
            assert response.status_code == 401
        blocked = api.post(
            "/api/v1/auth/login", json={"email": "victim@example.com", "password": PASSWORD}
        )
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "too_many_requests"
        assert 1 <= int(blocked.headers["Retry-After"]) <= 600
        # Another email from the same address is still allowed (per-IP limit is higher).
        signup(api, email="other@example.com")
        ok = api.post(
            "/api/v1/auth/login", json={"email": "other@example.com", "password": PASSWORD}
        )
        assert ok.status_code == 200


def test_throttle_is_per_client_address_too(settings: Settings) -> None:
    app = make_app(settings.replace(LOGIN_MAX_FAILURES_PER_IP=4))
    with ApiClient(app) as api:
        for n in range(4):
            api.post(
                "/api/v1/auth/login", json={"email": f"x{n}@example.com", "password": "y" * 12}
            )
        response = api.post(
            "/api/v1/auth/login", json={"email": "fresh@example.com", "password": "y" * 12}
        )
        assert response.status_code == 429


def test_successful_login_forgives_that_emails_failures(api: ApiClient) -> None:
    signup(api, email="forgiven@example.com")
    accounts = api.app.ctx.context.accounts
    api.post("/api/v1/auth/login", json={"email": "forgiven@example.com", "password": "z" * 12})
    assert api.run(accounts.login_failures("forgiven@example.com")) == 1
    api.post("/api/v1/auth/login", json={"email": "forgiven@example.com", "password": PASSWORD})
    assert api.run(accounts.login_failures("forgiven@example.com")) == 0


def test_outdated_hash_is_upgraded_on_login(settings: Settings) -> None:
    with ApiClient(make_app(settings)) as api:
        body = signup(api, email="upgrade@example.com")
    old_hash = None
    stronger = settings.replace(ARGON2_TIME_COST=2)
    with ApiClient(make_app(stronger)) as api:
        old_hash = api.run(User.get(id=body["user"]["id"])).password_hash
        assert "t=1" in old_hash
        response = api.post(
            "/api/v1/auth/login", json={"email": "upgrade@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200
        new_hash = api.run(User.get(id=body["user"]["id"])).password_hash
    assert new_hash != old_hash
    assert "t=2" in new_hash


def hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("onramp-cpu")]


def test_hashing_executor_is_one_per_worker_and_gone_after_stop(settings: Settings) -> None:
    before = len(hashing_threads())
    app = make_app(settings.replace(HASH_WORKERS=2))
    with ApiClient(app) as api:
        executor = app.ctx.context.executor
        for n in range(6):
            signup(api, email=f"pool{n}@example.com")
        assert app.ctx.context.executor is executor  # created once, at start
        assert 1 <= len(hashing_threads()) - before <= 2  # bounded by HASH_WORKERS
    assert len(hashing_threads()) == before  # shut down with the worker


def test_token_subject_is_a_uuid(api: ApiClient) -> None:
    token = signup(api)["access_token"]
    assert uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sub"])
