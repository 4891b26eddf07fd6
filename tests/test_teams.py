"""Teams through HTTP: teammate invitations, the organisation's invitation list,
members and their roles, and what a removal or a suspension does to sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.mail.models import OutboxEmail, OutboxStatus
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import PASSWORD, create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import ACCEPT, LOOKUP, accept, invite, receive
from tests.support.smtp import SmtpServer, html_of, text_of, token_in

INVITATIONS = "/api/v1/invitations"
MEMBERS = "/api/v1/members"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def team_api(mail_settings: Settings) -> Iterator[ApiClient]:
    with ApiClient(make_app(mail_settings.replace(INVITATION_RESEND_MAX_PER_HOUR=2))) as client:
        client.token = signup(client, email="olive@acme.example.com", org="Acme")["access_token"]
        yield client


def invite_teammate(api: ApiClient, email: str, role: str = "member", **body: Any) -> Any:
    response = api.post(INVITATIONS, json={"email": email, "role": role, **body})
    assert response.status_code == 202, response.text
    return response.json()


def join(api: ApiClient, smtp: SmtpServer, email: str, role: str = "member") -> dict[str, Any]:
    """Invite `email` as a teammate, take the token from the email, accept it."""
    invite_teammate(api, email, role)
    token = token_in(receive(api, smtp, len(smtp.messages) + 1)[-1])
    response = accept(api, token, name="Tess Teammate")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stop_background_jobs(api: ApiClient) -> None:
    """No email leaves from now on: what is queued stays queued (or is cancelled)."""
    report = api.run(api.app.ctx.context.supervisor.stop(5.0))
    assert not report.cancelled


def refresh(api: ApiClient, refresh_token: str) -> Any:
    return api.post(REFRESH, json={"refresh_token": refresh_token}, token="")


def test_teammate_invitation_email_accept_and_the_role_applies(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    created = invite_teammate(team_api, "tess@acme.example.com", message="Welcome aboard")
    assert created["kind"] == "teammate"
    assert created["role"] == "member"
    assert created["vendor_id"] is None
    assert created["invited_by"]["email"] == "olive@acme.example.com"
    message = receive(team_api, smtp, 1)[0]
    assert message["Subject"] == "Acme invites you to its team on Onramp"
    assert "Olive Owner invites you to join Acme on Onramp as member." in text_of(message)
    assert "<strong>Olive Owner</strong>" in html_of(message)
    token = token_in(message)
    looked_up = team_api.get(LOOKUP, params={"token": token}, token="").json()
    assert looked_up["kind"] == "teammate"
    assert looked_up["role"] == "member"
    assert looked_up["invited_by_name"] == "Olive Owner"
    assert looked_up["vendor_name"] is None
    assert looked_up["account_exists"] is False
    joined = accept(team_api, token, name="Tess Teammate")
    assert joined.status_code == 201, joined.text
    assert joined.json()["role"] == "member"
    assert joined.json()["vendor"] is None
    member = joined.json()["access_token"]
    # A member works with vendors, but owners' things stay owners'.
    assert team_api.get("/api/v1/vendors", token=member).status_code == 200
    assert create_vendor(team_api, member)["status"] == "draft"
    assert team_api.get(MEMBERS, token=member).status_code == 200
    refused = team_api.post(
        INVITATIONS, json={"email": "x@y.example.com", "role": "member"}, token=member
    )
    assert refused.status_code == 403
    assert team_api.get("/api/v1/audit-events", token=member).status_code == 403
    listed = team_api.get(f"{INVITATIONS}/{created['id']}").json()
    assert listed["status"] == "accepted"


def test_an_existing_account_joins_a_second_organisation(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    elsewhere = signup(team_api, email="sam@else.example.com", org="Elsewhere")
    invite_teammate(team_api, "sam@else.example.com", role="owner")
    token = token_in(receive(team_api, smtp, 1)[0])
    assert team_api.get(LOOKUP, params={"token": token}, token="").json()["account_exists"]
    wrong = team_api.post(ACCEPT, json={"token": token, "password": "wrong wrong"}, token="")
    assert wrong.status_code == 401
    joined = team_api.post(ACCEPT, json={"token": token, "password": PASSWORD}, token="")
    assert joined.status_code == 201, joined.text
    assert joined.json()["user"]["id"] == elsewhere["user"]["id"]
    assert joined.json()["role"] == "owner"
    assert {m["organization"]["name"] for m in joined.json()["memberships"]} == {
        "Acme",
        "Elsewhere",
    }


def test_teammate_invitation_refusals(team_api: ApiClient, smtp: SmtpServer) -> None:
    assert (
        team_api.post(
            INVITATIONS, json={"email": "olive@acme.example.com", "role": "member"}
        ).status_code
        == 409
    )
    invite_teammate(team_api, "once@acme.example.com")
    again = team_api.post(INVITATIONS, json={"email": "once@acme.example.com", "role": "owner"})
    assert again.status_code == 409
    vendor_role = team_api.post(INVITATIONS, json={"email": "v@acme.example.com", "role": "vendor"})
    assert vendor_role.status_code == 422
    no_email = team_api.post(INVITATIONS, json={"role": "member"})
    assert no_email.status_code == 422


def test_the_organisations_invitation_list_filters_and_pages(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    vendors = [create_vendor(team_api, team_api.token or "") for _ in range(3)]
    vendor_invitations = [invite(team_api, vendor["id"]) for vendor in vendors]
    teammate = invite_teammate(team_api, "tess@acme.example.com")
    revoked = team_api.post(f"{INVITATIONS}/{vendor_invitations[0]['id']}/revoke")
    assert revoked.status_code == 200
    everything = team_api.get(INVITATIONS).json()["items"]
    assert [item["id"] for item in everything] == [
        teammate["id"],
        *(invitation["id"] for invitation in reversed(vendor_invitations)),
    ]
    assert all(item["invited_by"]["email"] == "olive@acme.example.com" for item in everything)

    def ids(**params: Any) -> list[str]:
        response = team_api.get(INVITATIONS, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(kind="teammate") == [teammate["id"]]
    assert len(ids(kind="vendor")) == 3
    assert ids(status="revoked") == [vendor_invitations[0]["id"]]
    assert ids(vendor_id=vendors[1]["id"]) == [vendor_invitations[1]["id"]]
    assert ids(kind="teammate", vendor_id=vendors[1]["id"]) == []
    assert team_api.get(INVITATIONS, params={"kind": "nope"}).status_code == 422
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = team_api.get(INVITATIONS, params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in everything]
    one = team_api.get(f"{INVITATIONS}/{teammate['id']}")
    assert one.status_code == 200
    assert one.json()["email"] == "tess@acme.example.com"


def test_resending_one_invitation_is_limited_per_hour(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    created = invite_teammate(team_api, "tess@acme.example.com")
    for _ in range(2):
        assert team_api.post(f"{INVITATIONS}/{created['id']}/resend").status_code == 202
    limited = team_api.post(f"{INVITATIONS}/{created['id']}/resend")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    # Another invitation has its own allowance.
    other = invite_teammate(team_api, "other@acme.example.com")
    assert team_api.post(f"{INVITATIONS}/{other['id']}/resend").status_code == 202


def test_role_changes_and_removal_take_effect_at_the_next_refresh(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    tess = join(team_api, smtp, "tess@acme.example.com")
    tess_id = tess["user"]["id"]
    promoted = team_api.patch(f"{MEMBERS}/{tess_id}", json={"role": "owner"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "owner"
    refreshed = refresh(team_api, tess["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["role"] == "owner"
    listed = team_api.get(MEMBERS, params={"role": "owner"}).json()["items"]
    assert {item["user"]["email"] for item in listed} == {
        "olive@acme.example.com",
        "tess@acme.example.com",
    }
    assert team_api.delete(f"{MEMBERS}/{tess_id}").status_code == 204
    assert refresh(team_api, refreshed.json()["refresh_token"]).status_code == 401
    assert team_api.get(MEMBERS).json()["items"][0]["user"]["email"] == "olive@acme.example.com"
    assert team_api.patch(f"{MEMBERS}/{tess_id}", json={"role": "member"}).status_code == 404


def test_the_last_owner_stays(team_api: ApiClient, smtp: SmtpServer) -> None:
    me = team_api.get("/api/v1/me").json()["user"]["id"]
    assert team_api.patch(f"{MEMBERS}/{me}", json={"role": "member"}).status_code == 409
    assert team_api.delete(f"{MEMBERS}/{me}").status_code == 409
    tess = join(team_api, smtp, "tess@acme.example.com")
    # A member may leave; a member may not remove anyone else.
    tess_token = tess["access_token"]
    assert team_api.delete(f"{MEMBERS}/{me}", token=tess_token).status_code == 403
    assert (
        team_api.patch(f"{MEMBERS}/{me}", json={"role": "member"}, token=tess_token).status_code
        == 403
    )
    assert team_api.delete(f"{MEMBERS}/{tess['user']['id']}", token=tess_token).status_code == 204
    assert team_api.get(MEMBERS).json()["items"][0]["user"]["id"] == me


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    olive = team_api.get("/api/v1/me").json()["user"]["id"]
    tess = join(team_api, smtp, "tess@acme.example.com", role="owner")
    for _ in range(5):  # each round starts from two owners
        responses = team_api.concurrently(
            (
                "patch",
                f"{MEMBERS}/{tess['user']['id']}",
                {
                    "json": {"role": "member"},
                    "headers": {"Authorization": f"Bearer {team_api.token}"},
                },
            ),
            (
                "patch",
                f"{MEMBERS}/{olive}",
                {
                    "json": {"role": "member"},
                    "headers": {"Authorization": f"Bearer {tess['access_token']}"},
                },
            ),
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        owners = team_api.get(MEMBERS, params={"role": "owner"}, token=tess["access_token"])
        assert len(owners.json()["items"]) == 1
        survivor = owners.json()["items"][0]["user"]["id"]
        survivor_token = team_api.token if survivor == olive else tess["access_token"]
        demoted = tess["user"]["id"] if survivor == olive else olive
        restored = team_api.patch(
            f"{MEMBERS}/{demoted}", json={"role": "owner"}, token=survivor_token
        )
        assert restored.status_code == 200


def test_other_organisations_get_404_on_every_new_route(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    invitation = invite_teammate(team_api, "tess@acme.example.com")
    olive = team_api.get("/api/v1/me").json()["user"]["id"]
    stranger = signup(team_api, org="Strangers")["access_token"]
    for method, path, body in (
        ("get", f"{INVITATIONS}/{invitation['id']}", None),
        ("post", f"{INVITATIONS}/{invitation['id']}/resend", None),
        ("post", f"{INVITATIONS}/{invitation['id']}/revoke", None),
        ("patch", f"{MEMBERS}/{olive}", {"role": "member"}),
        ("delete", f"{MEMBERS}/{olive}", None),
    ):
        kwargs: dict[str, Any] = {"token": stranger}
        if body is not None:
            kwargs["json"] = body
        response = team_api.request(method, path, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
    assert team_api.get(INVITATIONS, token=stranger).json()["items"] == []
    members = team_api.get(MEMBERS, token=stranger).json()["items"]
    assert [m["user"]["id"] for m in members] != [olive]
    events = team_api.get("/api/v1/audit-events", token=stranger).json()["items"]
    assert {event["action"] for event in events} == {"user.signed_up"}
    assert team_api.get(f"{INVITATIONS}/{invitation['id']}").status_code == 200  # still there


def test_members_cannot_manage_teammate_invitations(team_api: ApiClient, smtp: SmtpServer) -> None:
    tess = join(team_api, smtp, "tess@acme.example.com")
    pending = invite_teammate(team_api, "next@acme.example.com")
    for action in ("resend", "revoke"):
        response = team_api.post(
            f"{INVITATIONS}/{pending['id']}/{action}", token=tess["access_token"]
        )
        assert response.status_code == 403, response.text


def test_suspending_a_vendor_ends_its_contacts_sessions_and_open_invitation(
    team_api: ApiClient, smtp: SmtpServer
) -> None:
    contact_vendor = create_vendor(team_api, team_api.token or "")
    invite(team_api, contact_vendor["id"])
    contact = accept(team_api, token_in(receive(team_api, smtp, 1)[0]))
    assert contact.status_code == 201
    waiting_vendor = create_vendor(team_api, team_api.token or "")
    # Its email is still queued when the vendor is archived: it must never be sent.
    stop_background_jobs(team_api)
    waiting = invite(team_api, waiting_vendor["id"])
    suspended = team_api.patch(
        f"/api/v1/vendors/{contact_vendor['id']}", json={"status": "suspended"}
    )
    assert suspended.status_code == 200
    assert refresh(team_api, contact.json()["refresh_token"]).status_code == 401
    archived = team_api.patch(
        f"/api/v1/vendors/{waiting_vendor['id']}", json={"status": "archived"}
    )
    assert archived.status_code == 200
    assert team_api.get(f"{INVITATIONS}/{waiting['id']}").json()["status"] == "revoked"
    queued = team_api.run(OutboxEmail.filter(ref_id=waiting["id"]).values_list("status", flat=True))
    assert queued == [OutboxStatus.CANCELLED]


def test_deleting_a_vendor_keeps_its_invitation_revoked_and_stops_its_email(
    team_api: ApiClient,
) -> None:
    vendor = create_vendor(team_api, team_api.token or "")
    stop_background_jobs(team_api)  # so its email is surely still queued
    invitation = invite(team_api, vendor["id"])
    assert team_api.delete(f"/api/v1/vendors/{vendor['id']}").status_code == 204
    kept = team_api.get(f"{INVITATIONS}/{invitation['id']}").json()
    assert kept["status"] == "revoked"
    assert kept["vendor_id"] is None
    statuses = team_api.run(
        OutboxEmail.filter(ref_id=invitation["id"]).values_list("status", flat=True)
    )
    assert statuses == [OutboxStatus.CANCELLED]
