"""A client generated from the live OpenAPI document (openapi-python-client, the
generator people use for Python) builds without a warning and works: signup, confirm
the address, create a vendor, list vendors filtered by status, invite the contact,
all through the generated, typed methods against the real `sanic` CLI.

The document does not depend on the database, so this runs in the SQLite pass only.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import PASSWORD
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer, smtp_settings
from tests.support.tools import tool_env

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "onramp_generated_client"

pytestmark = pytest.mark.any_backend  # the document is the same on both databases


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        del sys.modules[name]
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_a_generated_client_builds_cleanly_and_drives_the_api(
    e2e_database_url: str, smtp: SmtpServer, generated: Path, tmp_path: Path
) -> None:
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": e2e_database_url,
        "MIGRATE_ON_START": "true",
        "DISPATCH_POLL_INTERVAL": "0.2",
        **{key: str(value) for key, value in smtp_settings(smtp.port).items()},
    }
    with ServerProcess(env, workers=1, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        result = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--url",
                f"{server.url}/docs/openapi.json",
                "--meta",
                "none",
                "--output-path",
                str(generated / PACKAGE),
            ],
            cwd=generated,
            # (the generator formats its output with ruff, from the same venv)
            env=tool_env(PATH=f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Warning" not in output, output
        drive(server.url, generated, smtp)


def drive(url: str, folder: Path, smtp: SmtpServer) -> None:
    sys.path.insert(0, str(folder))
    client_module: Any = importlib.import_module(PACKAGE)
    api: Any = importlib.import_module(f"{PACKAGE}.api")
    models: Any = importlib.import_module(f"{PACKAGE}.models")
    accounts = importlib.import_module(f"{PACKAGE}.api.accounts.signup")
    verify = importlib.import_module(f"{PACKAGE}.api.accounts.verify_address")
    create_vendor = importlib.import_module(f"{PACKAGE}.api.vendors.create_vendor")
    list_vendors = importlib.import_module(f"{PACKAGE}.api.vendors.list_vendors")
    create_invitation = importlib.import_module(f"{PACKAGE}.api.invitations.create_invitation")
    assert api is not None

    email = "generated@example.com"
    with client_module.Client(base_url=url, raise_on_unexpected_status=True) as public:
        signed_up = accounts.sync(
            client=public,
            body=models.SignupIn(
                email=email, password=PASSWORD, full_name="Gen Client", organization_name="Gen"
            ),
        )
        assert isinstance(signed_up, models.SignupOut), signed_up
        assert signed_up.token_type == models.TokenType.BEARER
        confirmed = verify.sync_detailed(
            client=public, body=models.VerifyIn(token=smtp.confirmation_token(email))
        )
        assert confirmed.status_code == 204

    with client_module.AuthenticatedClient(
        base_url=url, token=signed_up.access_token, raise_on_unexpected_status=True
    ) as owner:
        vendor = create_vendor.sync(
            client=owner,
            body=models.VendorCreate(name="Northwind", contact_email="buyer@northwind.example.com"),
        )
        assert isinstance(vendor, models.VendorOut), vendor
        assert vendor.status == models.VendorStatus.DRAFT
        page = list_vendors.sync(client=owner, status=models.VendorStatus.DRAFT, limit=10)
        assert isinstance(page, models.VendorPage), page
        assert [item.id for item in page.items] == [vendor.id]
        invitation = create_invitation.sync(
            client=owner, vendor_id=vendor.id, body=models.InvitationCreate()
        )
    assert isinstance(invitation, models.InvitationOut), invitation
    assert invitation.status == models.InvitationStatus.PENDING
    assert invitation.email == "buyer@northwind.example.com"
