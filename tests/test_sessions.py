"""Sessions: access and refresh tokens, rotation, reuse detection, revocation,
organisation switching, expiry and purging, through HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.accounts.jobs import purge_expired
from app.accounts.models import Membership, RefreshToken, Role
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient

REFRESH = "/api/v1/auth/refresh"
LOGIN = "/api/v1/auth/login"


def refresh(api: ApiClient, token: str, **body: Any) -> Any:
    return api.post(REFRESH, json={"refresh_token": token, **body}, token="")


def login(api: ApiClient, email: str, **body: Any) -> Any:
    return api.post(LOGIN, json={"email": email, "password": PASSWORD, **body}, token="")


def test_signup_opens_a_session(api: ApiClient) -> None:
    body = signup(api, email="s@example.com", confirmed=False)
    assert body["role"] == "owner"
    assert body["user"]["email_verified"] is False
    assert len(body["refresh_token"]) >= 43
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 2_592_000
    stored = api.run(RefreshToken.get(user_id=body["user"]["id"]))
    assert body["refresh_token"] not in stored.token_hash  # only a hash is kept


def test_refresh_rotates_and_a_reused_token_revokes_the_family(api: ApiClient) -> None:
    first = signup(api)["refresh_token"]
    renewed = refresh(api, first)
    assert renewed.status_code == 200, renewed.text
    assert renewed.headers["Cache-Control"] == "no-store"
    second = renewed.json()["refresh_token"]
    assert second != first
    assert api.get("/api/v1/me", token=renewed.json()["access_token"]).status_code == 200
    # The first token again: someone copied it. Both it and its successor stop working.
    assert refresh(api, first).status_code == 401
    assert refresh(api, second).status_code == 401


def test_logout_ends_the_session(api: ApiClient) -> None:
    token = signup(api)["refresh_token"]
    assert api.post("/api/v1/auth/logout", json={"refresh_token": token}).status_code == 204
    assert refresh(api, token).status_code == 401
    # Logging out twice, or with a token we never issued, changes nothing and says so alike.
    assert api.post("/api/v1/auth/logout", json={"refresh_token": token}).status_code == 204
    assert api.post("/api/v1/auth/logout", json={"refresh_token": "x" * 43}).status_code == 204


def test_role_and_membership_are_read_afresh_on_refresh(api: ApiClient) -> None:
    body = signup(api, org="Team")
    token = body["refresh_token"]

    async def demote() -> None:
        await Membership.filter(user_id=body["user"]["id"]).update(role=Role.MEMBER)

    api.run(demote())
    renewed = refresh(api, token)
    assert renewed.json()["role"] == "member"

    async def remove() -> None:
        await Membership.filter(user_id=body["user"]["id"]).delete()

    api.run(remove())
    assert refresh(api, renewed.json()["refresh_token"]).status_code == 401


def test_one_user_in_two_organisations_switches_between_them(api: ApiClient) -> None:
    """Memberships, login to a chosen organisation, the one used last, switching."""
    owner_a = signup(api, org="Alpha", email="a@example.com")
    owner_b = signup(api, org="Beta", email="b@example.com")

    async def join_beta() -> None:
        await Membership.create(
            user_id=owner_a["user"]["id"],
            organization_id=owner_b["organization"]["id"],
            role=Role.MEMBER,
        )

    api.run(join_beta())
    alpha, beta = owner_a["organization"]["id"], owner_b["organization"]["id"]
    in_beta = login(api, "a@example.com", organization_id=beta)
    assert in_beta.status_code == 200, in_beta.text
    assert (in_beta.json()["organization"]["id"], in_beta.json()["role"]) == (beta, "member")
    assert {m["organization"]["id"] for m in in_beta.json()["memberships"]} == {alpha, beta}
    # Without an organisation: the one used last.
    assert login(api, "a@example.com").json()["organization"]["id"] == beta
    switched = refresh(api, in_beta.json()["refresh_token"], organization_id=alpha)
    assert switched.status_code == 200
    assert (switched.json()["organization"]["id"], switched.json()["role"]) == (alpha, "owner")
    me = api.get("/api/v1/me", token=switched.json()["access_token"]).json()
    assert me["organization"]["id"] == alpha
    assert len(me["memberships"]) == 2
    # Not a member: 403, and the presented refresh token stays usable.
    stranger = signup(api, org="Gamma")["organization"]["id"]
    assert login(api, "a@example.com", organization_id=stranger).status_code == 403
    current = switched.json()["refresh_token"]
    assert refresh(api, current, organization_id=stranger).status_code == 403
    assert refresh(api, current).status_code == 200


def test_password_change_ends_every_session(api: ApiClient) -> None:
    body = signup(api, email="pw@example.com")
    other_device = login(api, "pw@example.com").json()["refresh_token"]
    changed = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        token=body["access_token"],
    )
    assert changed.status_code == 204
    assert refresh(api, body["refresh_token"]).status_code == 401
    assert refresh(api, other_device).status_code == 401


@pytest.mark.serial  # the token must still be good right after signup, within its 2 s
@pytest.mark.any_backend  # a token's lifetime is the issuer's, whatever the database
def test_an_access_token_lives_access_token_ttl_seconds(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(ACCESS_TOKEN_TTL=2))) as api:
        assert api.contract is not None  # (its first build is not part of the 2 s)
        body = signup(api)
        assert body["expires_in"] == 2
        assert api.get("/api/v1/me", token=body["access_token"]).status_code == 200
        expires = jwt.decode(body["access_token"], options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, expires - time.time()))
        assert api.get("/api/v1/me", token=body["access_token"]).status_code == 401
        renewed = refresh(api, body["refresh_token"])
        assert api.get("/api/v1/me", token=renewed.json()["access_token"]).status_code == 200


def test_expired_refresh_tokens_are_refused_and_purged(api: ApiClient) -> None:
    body = signup(api)
    past = datetime.now(UTC) - timedelta(seconds=1)
    api.run(RefreshToken.filter(user_id=body["user"]["id"]).update(expires_at=past))
    assert refresh(api, body["refresh_token"]).status_code == 401
    purged = api.run(purge_expired())
    assert purged["refresh_tokens"] == 1
    assert api.run(RefreshToken.filter(user_id=body["user"]["id"]).count()) == 0


BACKGROUND = ("mail.", "invitations.", "accounts.", "logs.", "metrics.")


class Queries(logging.Handler):
    """Statements, and whether a request ran them (not a background job's task)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self.by_requests: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        statement = record.getMessage()
        self.statements.append(statement)
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is None or not task.get_name().startswith(BACKGROUND):
            self.by_requests.append(statement)


@contextmanager
def counting_queries() -> Iterator[Queries]:
    """Tortoise logs each statement it runs at DEBUG on `tortoise.db_client`."""
    handler = Queries()
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_an_authenticated_request_makes_one_query(settings: Settings) -> None:
    """Sessions add no query to an authenticated request: the access token is checked
    without the database; a vendor list or read is its one statement. (Background jobs
    run hourly here, but the dispatcher also wakes for the signup's email, whenever the
    loop next runs: its statements are told apart by their task.)"""
    quiet = settings.replace(
        DISPATCH_POLL_INTERVAL=3600, EXPIRY_INTERVAL=3600, HOUSEKEEPING_INTERVAL=3600
    )
    with ApiClient(make_app(quiet)) as api:
        token = signup(api)["access_token"]
        vendor = create_vendor(api, token)
        api.get("/api/v1/vendors", token=token)  # warm: statements prepared once
        with counting_queries() as queries:
            assert api.get("/api/v1/vendors", token=token).status_code == 200
            assert api.get(f"/api/v1/vendors/{vendor['id']}", token=token).status_code == 200
        assert len(queries.by_requests) == 2, queries.statements
