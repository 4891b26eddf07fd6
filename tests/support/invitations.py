"""Invitation steps through the public API, like a client would."""

from __future__ import annotations

from typing import Any

from app.invitations.models import Invitation
from tests.support.accounts import PASSWORD
from tests.support.client import ApiClient
from tests.support.smtp import SmtpServer

LOOKUP = "/api/v1/invitations/lookup"
ACCEPT = "/api/v1/invitations/accept"


async def invitation_status_is(invitation_id: str, status: str) -> bool:
    return await Invitation.exists(id=invitation_id, status=status)


def invite(api: ApiClient, vendor_id: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/vendors/{vendor_id}/invitations", json=body)
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


def receive(api: ApiClient, smtp: SmtpServer, count: int) -> list[Any]:
    api.wait_until(lambda: len(smtp.messages) >= count)
    return smtp.messages


def accept(api: ApiClient, token: str, name: str = "Vera Vendor") -> Any:
    return api.post(
        ACCEPT, json={"token": token, "full_name": name, "password": PASSWORD}, token=""
    )
