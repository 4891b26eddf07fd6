"""The operator commands, `python -m app <command>`, on the suite's database; and public
signup switched off (`SIGNUP_ENABLED=false`), where `create-owner` makes the first owner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import PASSWORD_VARIABLE, main, parser
from app.mail.models import OutboxEmail
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import invite
from tests.support.smtp import SmtpServer, smtp_settings, token_in


@pytest.fixture
def operator_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> pytest.MonkeyPatch:
    """The environment an operator's shell would have for the suite's database."""
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.chdir(tmp_path)  # (no .env of the developer's is read)
    return monkeypatch


def test_help_lists_every_command() -> None:
    help_text = parser().format_help()
    for command in ("migrate", "create-owner", "users", "outbox"):
        assert command in help_text


@pytest.fixture
def on_empty_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_database_url: str
) -> None:
    """An operator's shell pointed at a database never migrated."""
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("on_empty_database")
def test_migrate_says_what_it_applied_and_what_is_pending(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate", "status"]) == 0
    before = capsys.readouterr().out
    assert "pending  models.0001_initial" in before
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.startswith("applied: models.0001_initial, ")
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == "nothing to apply: up to date\n"
    assert main(["migrate", "status"]) == 0
    after = capsys.readouterr().out
    assert "applied  models.0001_initial" in after
    assert after.endswith(" pending\n")
    assert ", 0 pending" in after


@pytest.mark.usefixtures("on_empty_database")
def test_a_command_on_a_database_never_migrated_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["users", "list"]) == 2
    assert "run `python -m app migrate` first" in capsys.readouterr().err


def test_create_owner_then_the_owner_signs_in_and_may_invite(
    operator_env: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    operator_env.setenv(PASSWORD_VARIABLE, PASSWORD)
    args = ["create-owner", "--email", "Boss@Acme.example.com", "--name", "Bo Boss"]
    assert main([*args, "--organization", "Acme"]) == 0
    assert "owner Boss@acme.example.com" in capsys.readouterr().out
    assert main([*args, "--organization", "Other"]) == 1  # the address is taken
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Boss@acme.example.com\tconfirmed\tAcme:owner" in listed

    app = make_app(settings.replace(SIGNUP_ENABLED=False))
    with ApiClient(app) as api:
        login = api.post(
            "/api/v1/auth/login", json={"email": "boss@acme.example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        vendor = create_vendor(api, token)
        invited = api.post(f"/api/v1/vendors/{vendor['id']}/invitations", json={}, token=token)
        assert invited.status_code == 202, invited.text  # confirmed: it may send
        events = api.get(
            "/api/v1/audit-events", params={"action": "user.signed_up"}, token=token
        ).json()["items"]
    assert [(e["actor"], e["job"]) for e in events] == [(None, "python -m app")]
    assert main(["outbox", "status"]) == 0
    assert "queued=" in capsys.readouterr().out


def test_create_owner_keeps_the_password_rule(
    operator_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    operator_env.setenv(PASSWORD_VARIABLE, "short")
    args = ["create-owner", "--email", "a@b.example.com", "--name", "A", "--organization", "B"]
    assert main(args) == 1
    assert "password" in capsys.readouterr().err


def test_public_signup_can_be_switched_off(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(SIGNUP_ENABLED=False))) as api:
        refused = api.post(
            "/api/v1/auth/signup",
            json={
                "email": "new@example.com",
                "password": PASSWORD,
                "full_name": "New",
                "organization_name": "New",
            },
        )
    assert refused.status_code == 403
    assert "switched off" in refused.json()["error"]["message"]


def test_requeue_sends_failed_email_again_once_the_cause_is_fixed(settings: Settings) -> None:
    """The mail server refused everything; once it accepts, `outbox requeue --failed`
    (another process, as an operator runs it) sends the password reset as it was and the
    invitation with a new token, and the old token stays dead."""
    with SmtpServer(reply="550 5.1.1 relay denied") as smtp:
        app = make_app(
            settings.replace(
                **smtp_settings(smtp.port),
                DISPATCH_POLL_INTERVAL=0.05,
                DISPATCH_MAX_ATTEMPTS=1,
            )
        )
        with ApiClient(app) as api:
            owner = signup(api, email="olive@acme.example.com")
            api.token = owner["access_token"]
            vendor = create_vendor(api, api.token)
            invitation = invite(api, vendor["id"])
            assert (
                api.post(
                    "/api/v1/auth/password-reset", json={"email": "olive@acme.example.com"}
                ).status_code
                == 202
            )

            async def both_failed() -> bool:
                return await OutboxEmail.filter(status="failed").count() == 2

            api.wait_until(both_failed)
            smtp.recorder.reply = None  # the mail server is fixed
            run = subprocess.run(
                [sys.executable, "-m", "app", "outbox", "requeue", "--failed"],
                env={**os.environ, "APP_ENV": "testing", "DATABASE_URL": settings.DATABASE_URL},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert run.returncode == 0, run.stderr
            assert run.stdout.startswith("requeued: 1 account emails, 1 invitations"), run.stdout
            api.wait_until(lambda: len(smtp.messages) == 2)
            subjects = sorted(str(message["Subject"]) for message in smtp.messages)
            assert any("reset" in subject.lower() for subject in subjects), subjects
            (sent,) = [m for m in smtp.messages if vendor["contact_email"] in str(m["To"])]
            token = token_in(sent)
            assert api.get("/api/v1/invitations/lookup", params={"token": token}).status_code == 200
            listed = api.get(f"/api/v1/invitations/{invitation['id']}").json()
            assert listed["status"] in {"pending", "sent"}
