"""Passwords: change, and reset by email (real SMTP), without revealing accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import OneTimeToken, TokenPurpose, User
from app.mail.models import OutboxEmail
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, signup
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer, text_of
from tests.test_sessions import counting_queries, login, refresh

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r"https://onramp\.example\.com/reset\?token=([A-Za-z0-9_\-%]+)")


@pytest.fixture
def mail_api(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings)) as client:
        yield client


def reset_token(api: ApiClient, smtp: SmtpServer, count: int = 1) -> str:
    api.wait_until(lambda: len(smtp.messages) >= count)
    found = RESET_LINK.search(text_of(smtp.messages[count - 1]))
    assert found, text_of(smtp.messages[count - 1])
    return found.group(1)


def test_change_needs_the_current_password(api: ApiClient) -> None:
    body = signup(api, email="change@example.com")
    wrong = api.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        token=body["access_token"],
    )
    assert wrong.status_code == 401
    short = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        token=body["access_token"],
    )
    assert short.status_code == 422
    assert [d["field"] for d in short.json()["error"]["details"]] == ["new_password"]
    ok = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        token=body["access_token"],
    )
    assert ok.status_code == 204
    assert login(api, "change@example.com").status_code == 401
    relog = api.post(
        "/api/v1/auth/login",
        json={"email": "change@example.com", "password": NEW_PASSWORD},
        token="",
    )
    assert relog.status_code == 200


def test_wrong_current_passwords_count_toward_login_throttling(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(LOGIN_MAX_FAILURES_PER_EMAIL=2))) as api:
        body = signup(api, email="guess@example.com")
        for _ in range(2):
            api.post(
                "/api/v1/auth/password",
                json={"current_password": "a wrong guess", "new_password": NEW_PASSWORD},
                token=body["access_token"],
            )
        third = api.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            token=body["access_token"],
        )
        assert third.status_code == 429
        assert int(third.headers["Retry-After"]) >= 1


def test_reset_by_email_end_to_end(mail_api: ApiClient, smtp: SmtpServer) -> None:
    body = signup(mail_api, email="forgetful@example.com", confirmed=False)
    asked = mail_api.post(RESET, json={"email": "forgetful@example.com"}, token="")
    assert asked.status_code == 202
    token = reset_token(mail_api, smtp)
    email = smtp.messages[0]
    assert email["To"] == "forgetful@example.com"
    assert "reset" in email["Subject"].lower()
    stored = mail_api.run(
        OneTimeToken.get(user_id=body["user"]["id"], purpose=TokenPurpose.PASSWORD_RESET)
    )
    assert token not in stored.token_hash
    confirmed = mail_api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert confirmed.status_code == 204
    # Single use, sessions ended, the new password works, the address is now proven.
    again = mail_api.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert again.status_code == 410
    assert refresh(mail_api, body["refresh_token"]).status_code == 401
    relog = mail_api.post(
        "/api/v1/auth/login",
        json={"email": "forgetful@example.com", "password": NEW_PASSWORD},
        token="",
    )
    assert relog.status_code == 200
    assert relog.json()["user"]["email_verified"] is True


def test_an_unknown_address_is_indistinguishable(mail_api: ApiClient, smtp: SmtpServer) -> None:
    signup(mail_api, email="known@example.com")
    with counting_queries() as known_queries:
        known = mail_api.post(RESET, json={"email": "known@example.com"}, token="")
    with counting_queries() as unknown_queries:
        unknown = mail_api.post(RESET, json={"email": "nobody@example.com"}, token="")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    # The same statements for both (values differ, the work does not).
    shapes = [
        [re.sub(r"\$\d+|\?|'[^']*'|\d+", "_", q) for q in queries.by_requests]
        for queries in (known_queries, unknown_queries)
    ]
    assert shapes[0]  # the rate counters and the outbox row
    assert shapes[0] == shapes[1]
    mail_api.wait_until(
        lambda: OutboxEmail.exists(to_address="nobody@example.com", status="cancelled")
    )
    # The unknown address's row is only cancelled, the known one's goes out over SMTP:
    # the dispatcher works on both at once, and the cancel may finish first.
    mail_api.wait_until(lambda: smtp.messages)
    assert [m["To"] for m in smtp.messages] == ["known@example.com"]


def test_reset_requests_are_throttled(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(PASSWORD_RESET_MAX_PER_EMAIL=2))) as api:
        for _ in range(2):
            assert api.post(RESET, json={"email": "x@example.com"}).status_code == 202
        blocked = api.post(RESET, json={"email": "x@example.com"})
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        assert api.post(RESET, json={"email": "y@example.com"}).status_code == 202


def test_an_expired_or_replaced_link_is_gone(mail_api: ApiClient, smtp: SmtpServer) -> None:
    signup(mail_api, email="late@example.com")
    mail_api.post(RESET, json={"email": "late@example.com"})
    first = reset_token(mail_api, smtp, 1)
    mail_api.post(RESET, json={"email": "late@example.com"})
    second = reset_token(mail_api, smtp, 2)
    replaced = mail_api.post(CONFIRM, json={"token": first, "new_password": NEW_PASSWORD})
    assert replaced.status_code == 410  # a newer link replaced it

    async def expire() -> None:
        user = await User.get(email="late@example.com")
        past = datetime.now(UTC) - timedelta(seconds=1)
        await OneTimeToken.filter(user_id=user.id).update(expires_at=past)

    mail_api.run(expire())
    expired = mail_api.post(CONFIRM, json={"token": second, "new_password": NEW_PASSWORD})
    assert expired.status_code == 410
