"""The pages people open from our emails, over HTTP (the browser tests are in tests/e2e)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer, smtp_settings, token_in

pytestmark = pytest.mark.any_backend  # the database is incidental here

RESET_TOKEN = re.compile(r"/reset\?token=([A-Za-z0-9_\-%]+)")


@pytest.fixture
def pages(settings: Settings, smtp: SmtpServer) -> Iterator[ApiClient]:
    app = make_app(
        settings.replace(**smtp_settings(smtp.port), DISPATCH_POLL_INTERVAL=0.1, ACCESS_LOG=True)
    )
    with ApiClient(app) as client:
        client.token = signup(client, org="Acme <script>alert(1)</script>")["access_token"]
        yield client


def invitation_token(api: ApiClient, smtp: SmtpServer, **vendor: Any) -> str:
    created = create_vendor(api, api.token or "", **vendor)
    response = api.post(f"/api/v1/vendors/{created['id']}/invitations", json={})
    assert response.status_code == 202
    api.wait_until(lambda: len(smtp.messages) >= 1)
    return token_in(smtp.messages[-1])


def form_of(page: httpx.Response) -> tuple[str, str]:
    """The CSRF cookie the page set and the hidden field that goes with it."""
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    value = re.search(r"onramp_csrf=([^;]+)", cookie)
    field = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert value, cookie
    assert field, page.text
    return value.group(1), field.group(1)


def submit(api: ApiClient, path: str, page: httpx.Response, **fields: str) -> httpx.Response:
    cookie, csrf = form_of(page)
    api.clear_cookies()  # exactly the cookie this page set, nothing the session kept
    return api.post(
        path, data={**fields, "csrf": csrf}, headers={"Cookie": f"onramp_csrf={cookie}"}
    )


def test_invite_page_for_a_new_account(pages: ApiClient, smtp: SmtpServer) -> None:
    token = invitation_token(pages, smtp, contact_email="new.person@vendor.example.com")
    page = pages.get("/invite", params={"token": token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for label in ("Full name", "Password", "Confirm password"):
        assert f">{label}</label>" in page.text
    assert "<script>" not in page.text  # the organisation's name is escaped
    assert "Acme &lt;script&gt;" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"

    differ = submit(
        pages, "/invite", page, token=token, full_name="Nia New",
        password=PASSWORD, password_confirm=PASSWORD + "x",
    )  # fmt: skip
    assert differ.status_code == 422
    assert "the two passwords differ" in differ.text
    assert 'value="Nia New"' in differ.text  # the name is kept

    done = submit(
        pages, "/invite", differ, token=token, full_name="Nia New",
        password=PASSWORD, password_confirm=PASSWORD,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert "Welcome to Acme" in done.text
    login = pages.post(
        "/api/v1/auth/login",
        json={"email": "new.person@vendor.example.com", "password": PASSWORD},
        token="",
    )
    assert login.status_code == 200
    assert login.json()["role"] == "vendor"
    used = pages.get("/invite", params={"token": token})
    assert used.status_code == 410
    assert "can no longer be used" in used.text


def test_invite_page_for_an_existing_account(pages: ApiClient, smtp: SmtpServer) -> None:
    signup(pages, email="has.account@vendor.example.com", org="Their own")
    token = invitation_token(pages, smtp, contact_email="has.account@vendor.example.com")
    page = pages.get("/invite", params={"token": token})
    assert ">Password</label>" in page.text
    assert "Full name" not in page.text
    wrong = submit(pages, "/invite", page, token=token, password="not the password")
    assert wrong.status_code == 401
    assert "not the password of the account" in wrong.text
    done = submit(pages, "/invite", wrong, token=token, password=PASSWORD)
    assert done.status_code == 200, done.text


def test_a_form_without_its_csrf_pair_is_refused(pages: ApiClient, smtp: SmtpServer) -> None:
    token = invitation_token(pages, smtp)
    page = pages.get("/invite", params={"token": token})
    fields = {"token": token, "full_name": "X", "password": PASSWORD, "password_confirm": PASSWORD}
    cookie, csrf = form_of(page)
    pages.clear_cookies()
    no_cookie = pages.post("/invite", data={**fields, "csrf": csrf})
    assert no_cookie.status_code == 403
    forged = pages.post(
        "/invite", data={**fields, "csrf": "0" * 64}, headers={"Cookie": f"onramp_csrf={cookie}"}
    )
    assert forged.status_code == 403
    cross_site = pages.post(
        "/invite",
        data={**fields, "csrf": csrf},
        headers={"Cookie": f"onramp_csrf={cookie}", "Origin": "https://evil.example.com"},
    )
    assert cross_site.status_code == 403
    assert pages.get("/api/v1/invitations/lookup", params={"token": token}).status_code == 200


@pytest.mark.parametrize("path", ["/invite", "/reset", "/verify"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "application/json", "text/plain", None]
)
def test_a_body_that_is_not_a_form_gets_a_clear_page(
    pages: ApiClient, caplog: pytest.LogCaptureFixture, path: str, content_type: str | None
) -> None:
    """Only what the pages' own forms send is read (a multipart body without its
    boundary once made Sanic log a traceback per request)."""
    headers = {"Content-Type": content_type} if content_type else {}
    with caplog.at_level(logging.WARNING):
        response = pages.post(path, content=b"token=x", headers=headers)
    assert response.status_code == 415
    assert "<h1>" in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_pages_are_not_in_the_api_document(pages: ApiClient) -> None:
    paths = pages.get("/docs/openapi.json").json()["paths"]
    assert not {"/invite", "/reset", "/verify"} & set(paths)


def test_unusable_and_missing_tokens_get_a_clear_page(pages: ApiClient) -> None:
    for path in ("/invite", "/reset"):
        missing = pages.get(path)
        assert missing.status_code == 404
        assert "<h1>" in missing.text
        gone = pages.get(path, params={"token": "x" * 43})
        assert gone.status_code == 410
        assert "can no longer be used" in gone.text
        assert "Traceback" not in gone.text


def test_reset_page(pages: ApiClient, smtp: SmtpServer) -> None:
    signup(pages, email="reset.me@example.com")
    assert (
        pages.post(
            "/api/v1/auth/password-reset", json={"email": "reset.me@example.com"}
        ).status_code
        == 202
    )
    pages.wait_until(lambda: len(smtp.messages) >= 1)
    found = RESET_TOKEN.search(smtp.messages[-1].get_body(("plain",)).get_content())
    assert found
    token = found.group(1)
    page = pages.get("/reset", params={"token": token})
    assert page.status_code == 200
    assert ">Password</label>" in page.text
    assert ">Confirm password</label>" in page.text
    short = submit(pages, "/reset", page, token=token, password="short", password_confirm="short")
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    done = submit(
        pages, "/reset", short, token=token,
        password="my new passphrase", password_confirm="my new passphrase",
    )  # fmt: skip
    assert done.status_code == 200
    assert "Your password is changed" in done.text
    assert pages.get("/reset", params={"token": token}).status_code == 410
    login = pages.post(
        "/api/v1/auth/login",
        json={"email": "reset.me@example.com", "password": "my new passphrase"},
        token="",
    )
    assert login.status_code == 200


def test_the_stylesheet_is_served_by_the_app(pages: ApiClient) -> None:
    css = pages.get("/static/onramp.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {getattr(record, 'request', '')}")


def test_tokens_never_reach_the_access_log(pages: ApiClient, smtp: SmtpServer) -> None:
    token = invitation_token(pages, smtp)
    records = Records()
    access = logging.getLogger("sanic.access")
    access.addHandler(records)
    try:
        pages.get("/invite", params={"token": token})
        pages.get("/api/v1/invitations/lookup", params={"token": token})
    finally:
        access.removeHandler(records)
    assert len(records.lines) == 2
    assert all("token=[redacted]" in line for line in records.lines), records.lines
    assert not any(token in line for line in records.lines)


def test_invite_page_for_a_teammate(pages: ApiClient, smtp: SmtpServer) -> None:
    created = pages.post(
        "/api/v1/invitations", json={"email": "tess@acme.example.com", "role": "owner"}
    )
    assert created.status_code == 202
    pages.wait_until(lambda: len(smtp.messages) >= 1)
    page = pages.get("/invite", params={"token": token_in(smtp.messages[-1])})
    assert page.status_code == 200
    assert "Olive Owner invites you" in page.text
    assert " as an owner." in page.text
    assert "contact of" not in page.text
    assert 'for="full_name"' in page.text
