"""A person finishes onboarding in a real browser: headless Chromium from Debian
(`/usr/bin/chromium`, never a downloaded build) driven by Playwright, against the real
`sanic` CLI server, with the emails received by a real SMTP server (aiosmtpd).

Each page is photographed at 375x800 and 1280x800 (artifacts/browser/<test>/) and
checked with axe-core: no serious or critical violations. Without Chromium these tests
skip, saying how to install it; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.net import free_port
from tests.support.server import ROOT, ServerProcess
from tests.support.smtp import SmtpServer, smtp_settings, text_of

# The database is incidental here; the file's tests share one server (module-scoped),
# so they run on one pytest-xdist worker.
pytestmark = [pytest.mark.any_backend, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "correct horse battery"
SIZES = {"phone": (375, 800), "desktop": (1280, 800)}
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/(?:invite|reset)\?token=[A-Za-z0-9_\-%]+)")

if not CHROMIUM.exists():
    message = "Chromium is missing: apt-get install chromium (make test installs it as root)"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(
    module_database_url: str, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server for the module: each test signs up and invites its own addresses, and
    finds its emails by recipient."""
    port = free_port()
    log = tmp_path_factory.mktemp("browser-server") / "server.log"
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": module_database_url,
        "MIGRATE_ON_START": "true",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DISPATCH_POLL_INTERVAL": "0.2",
        **{key: str(value) for key, value in smtp_settings(smtp.port).items()},
    }
    with ServerProcess(env, workers=1, log_path=log, port=port) as running:
        running.wait_ready()
        yield running
        running.stop()


class Api:
    def __init__(self, client: httpx.Client, smtp: SmtpServer) -> None:
        self.client = client
        self.smtp = smtp

    def post(self, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def signup(self, email: str, organization: str, *, confirm: bool = True) -> dict[str, Any]:
        """Sign up; `confirm`: with the token from the confirmation email, as a client."""
        created = dict(
            self.post(
                "/api/v1/auth/signup",
                email=email,
                password=PASSWORD,
                full_name="Olive Owner",
                organization_name=organization,
            )
        )
        if confirm:
            token = self.smtp.confirmation_token(email)
            confirmed = self.client.post("/api/v1/auth/verify", json={"token": token})
            assert confirmed.status_code == 204, confirmed.text
        return created

    def invite(self, owner: dict[str, Any], contact_email: str) -> None:
        token = owner["access_token"]
        vendor = self.post(
            "/api/v1/vendors", token, name="Bolt Supplies", contact_email=contact_email
        )
        self.post(f"/api/v1/vendors/{vendor['id']}/invitations", token)

    def login(self, email: str, password: str, **extra: Any) -> httpx.Response:
        return self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password, **extra}
        )


@pytest.fixture
def api(server: ServerProcess, smtp: SmtpServer) -> Iterator[Api]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield Api(client, smtp)


CONFIRMATION_LINK = re.compile(r"http://127\.0\.0\.1:\d+/verify\?token=[A-Za-z0-9_\-%]+")


def link_to(smtp: SmtpServer, address: str) -> str:
    """The link in the (one) invitation or reset email sent to `address`."""
    text = text_of(smtp.message_to(address))
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def record(page: Page, test: str, name: str) -> None:
    """Screenshots at both widths, and axe-core's verdict on the page."""
    folder = ARTIFACTS / test
    folder.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{size}-{width}x{height}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} scrolls sideways at {width}px"
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    (folder / f"{name}-axe.txt").write_text(
        "\n".join(f"{v['impact']}: {v['id']} {v['help']}" for v in results.response["violations"])
        or "no violations\n"
    )
    assert serious == [], [(v["id"], v["help"]) for v in serious]


def test_a_vendor_contact_accepts_and_signs_in(
    browser: Browser, api: Api, smtp: SmtpServer
) -> None:
    owner = api.signup("owner@acme.example.com", "Acme")
    api.invite(owner, "vera@bolt.example.com")
    page = browser.new_page()
    page.goto(link_to(smtp, "vera@bolt.example.com"))
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    record(page, "accept_new_account", "invite")
    page.get_by_label("Full name").fill("Vera Vendor")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD + "?")
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("alert")).to_be_visible()  # the passwords differ
    assert page.get_by_label("Full name").input_value() == "Vera Vendor"  # kept
    record(page, "accept_new_account", "invite-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("heading", name="Welcome to Acme")).to_be_visible()
    record(page, "accept_new_account", "welcome")
    signed_in = api.login("vera@bolt.example.com", PASSWORD)
    assert signed_in.status_code == 200
    assert signed_in.json()["role"] == "vendor"


def test_a_forgotten_password_is_reset(browser: Browser, api: Api, smtp: SmtpServer) -> None:
    api.signup("forgetful@acme.example.com", "Acme")
    api.post("/api/v1/auth/password-reset", email="forgetful@acme.example.com")
    page = browser.new_page()
    page.goto(link_to(smtp, "forgetful@acme.example.com"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    record(page, "reset_password", "reset")
    page.get_by_label("Password", exact=True).fill("a fresh passphrase")
    page.get_by_label("Confirm password").fill("a fresh passphrase")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    record(page, "reset_password", "changed")
    assert api.login("forgetful@acme.example.com", PASSWORD).status_code == 401
    assert api.login("forgetful@acme.example.com", "a fresh passphrase").status_code == 200
    page.goto(link_to(smtp, "forgetful@acme.example.com"))  # the link again: used
    expect(
        page.get_by_role("heading", name="This password reset link can no longer be used")
    ).to_be_visible()
    record(page, "reset_password", "used-link")


def test_an_existing_account_joins_a_second_organisation(
    browser: Browser, api: Api, smtp: SmtpServer
) -> None:
    api.signup("shared@bolt.example.com", "Bolt Supplies Ltd")
    second = api.signup("owner@globex.example.com", "Globex")
    api.invite(second, "shared@bolt.example.com")
    page = browser.new_page()
    page.goto(link_to(smtp, "shared@bolt.example.com"))
    assert page.get_by_label("Full name").count() == 0  # the account exists: password only
    record(page, "accept_existing_account", "invite")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("heading", name="Welcome to Globex")).to_be_visible()
    signed_in = api.login(
        "shared@bolt.example.com", PASSWORD, organization_id=second["organization"]["id"]
    )
    assert signed_in.status_code == 200
    assert {m["organization"]["name"] for m in signed_in.json()["memberships"]} == {
        "Bolt Supplies Ltd",
        "Globex",
    }


def test_an_owner_confirms_the_address_and_may_then_invite(
    browser: Browser, api: Api, smtp: SmtpServer
) -> None:
    owner = api.signup("new.owner@acme.example.com", "Acme", confirm=False)
    vendor = api.post(
        "/api/v1/vendors", owner["access_token"], name="Bolt", contact_email="v@bolt.example.com"
    )
    headers = {"Authorization": f"Bearer {owner['access_token']}"}
    refused = api.client.post(
        f"/api/v1/vendors/{vendor['id']}/invitations", json={}, headers=headers
    )
    assert refused.status_code == 403
    assert "Confirm your email address" in refused.json()["error"]["message"]
    page = browser.new_page()
    page.goto(confirmation_link(smtp, "new.owner@acme.example.com"))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    record(page, "confirm_address", "verify")
    page.get_by_role("button", name="Yes, confirm my address").click()
    expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    record(page, "confirm_address", "confirmed")
    invited = api.client.post(
        f"/api/v1/vendors/{vendor['id']}/invitations", json={}, headers=headers
    )
    assert invited.status_code == 202, invited.text


def test_the_mailbox_owner_releases_a_squatted_address(
    browser: Browser, api: Api, smtp: SmtpServer
) -> None:
    api.signup("victim@mail.example.com", "Squatters Inc", confirm=False)  # not the owner
    page = browser.new_page()
    page.goto(confirmation_link(smtp, "victim@mail.example.com"))
    page.get_by_role("button", name="This was not me").click()
    expect(page.get_by_role("heading", name="The address is released")).to_be_visible()
    record(page, "confirm_address", "released")
    mine = api.signup("victim@mail.example.com", "Victim Co")  # the real owner, confirmed
    assert mine["organization"]["name"] == "Victim Co"
    assert api.login("victim@mail.example.com", PASSWORD).json()["organization"]["name"] == (
        "Victim Co"
    )


def confirmation_link(smtp: SmtpServer, address: str) -> str:
    token = smtp.confirmation_token(address)
    message = next(m for m in smtp.confirmations if token in text_of(m))
    found = CONFIRMATION_LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(0)


def test_the_api_docs_work_without_internet(browser: Browser, server: ServerProcess) -> None:
    """`/docs` renders and lists every operation of the document, with every request
    the page makes answered by the server itself (any other host is refused here, as
    on a machine without internet), and an operation can be tried from it."""
    operations = sum(
        1
        for item in server.client.get("/docs/openapi.json", timeout=10).json()["paths"].values()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )
    context = browser.new_context()
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/docs", wait_until="load")
        page.wait_for_selector(".opblock", timeout=20_000)
        shown = page.locator(".opblock").count()
        summary = page.locator("#operations-health-liveness .opblock-summary-control")
        if summary.get_attribute("aria-expanded") != "true":
            summary.click()
        page.locator("#operations-health-liveness .try-out__btn").click()
        page.locator("#operations-health-liveness .execute").click()
        page.wait_for_selector("#operations-health-liveness .live-responses-table", timeout=10_000)
        answer = page.locator("#operations-health-liveness .live-responses-table").inner_text()
        # (Swagger UI is not a page for people from our emails: no phone-width or axe
        # verdict here, only a picture.)
        (ARTIFACTS / "docs").mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(ARTIFACTS / "docs" / "swagger-ui-1280x800.png"))
    finally:
        context.close()
    assert elsewhere == []
    assert shown == operations, (shown, operations)
    assert '"status": "ok"' in answer or '"status":"ok"' in answer, answer
