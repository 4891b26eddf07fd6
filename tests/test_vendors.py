"""Vendor CRUD, pagination, search, roles and tenant isolation, through HTTP."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from app.accounts.models import Membership, Role
from app.accounts.principal import Principal
from app.accounts.tokens import TokenIssuer
from tests.support.accounts import create_vendor, signup
from tests.support.client import ApiClient

VENDORS = "/api/v1/vendors"


@pytest.fixture
def owner(api: ApiClient) -> str:
    token: str = signup(api, org="Acme")["access_token"]
    api.token = token
    return token


@pytest.mark.parametrize(
    "website", ["https://northwind.example.com", "http://Northwind.Example.com:8080/a?b=c#d"]
)
def test_a_website_comes_back_as_it_was_sent(api: ApiClient, owner: str, website: str) -> None:
    """(pydantic's normal form added a `/` to a bare host: 2,048 characters became a 500)"""
    assert create_vendor(api, owner, website=website)["website"] == website
    longest = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert create_vendor(api, owner, website=longest)["website"] == longest
    bare_longest = "https://" + ".".join(["a" * 60] * 33)[: 2048 - len("https://")]
    response = api.post(
        VENDORS, json={"name": "X", "contact_email": "x@x.example.com", "website": bare_longest}
    )
    assert response.status_code in (201, 422), response.text


def test_create_read_update_delete(api: ApiClient, owner: str) -> None:
    created = create_vendor(
        api,
        owner,
        name="  Northwind  ",
        contact_email="Buyer@NorthWind.Example.COM",
        phone="+44 20 7946 0000",
        website="https://northwind.example.com/about",
        category="logistics",
        notes="Ships on Tuesdays",
    )
    assert created["status"] == "draft"
    assert created["name"] == "Northwind"
    assert created["contact_email"] == "Buyer@northwind.example.com"
    assert created["created_at"].endswith("Z")
    vendor_id = created["id"]

    read = api.get(f"{VENDORS}/{vendor_id}")
    assert read.status_code == 200
    assert read.json() == created

    patched = api.patch(f"{VENDORS}/{vendor_id}", json={"category": "freight", "notes": None})
    assert patched.status_code == 200
    body = patched.json()
    assert body["category"] == "freight"
    assert body["notes"] is None
    assert body["name"] == "Northwind"  # untouched
    assert body["updated_at"] >= created["updated_at"]

    assert api.delete(f"{VENDORS}/{vendor_id}").status_code == 204
    assert api.get(f"{VENDORS}/{vendor_id}").status_code == 404
    assert api.delete(f"{VENDORS}/{vendor_id}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"contact_email": "nope"}, "contact_email"),
        ({"website": "not a url"}, "website"),
        ({"notes": "n" * 5001}, "notes"),
        ({"phone": "call me maybe"}, "phone"),
        ({"status": "active"}, "status"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_validation_is_422(
    api: ApiClient, owner: str, payload: dict[str, Any], field: str
) -> None:
    body = {"name": "V", "contact_email": "v@vendor.example.com", **payload}
    response = api.post(VENDORS, json=body)
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_patch_rejects_unknown_fields_and_null_required_fields(api: ApiClient, owner: str) -> None:
    vendor = create_vendor(api, owner)
    for payload, field in [({"colour": "red"}, "colour"), ({"name": None}, "name")]:
        response = api.patch(f"{VENDORS}/{vendor['id']}", json=payload)
        assert response.status_code == 422
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_patch_status_follows_the_allowed_changes(api: ApiClient, owner: str) -> None:
    vendor = create_vendor(api, owner)
    url = f"{VENDORS}/{vendor['id']}"
    assert api.patch(url, json={"status": "active"}).status_code == 409  # draft -> active
    assert api.patch(url, json={"status": "suspended"}).json()["status"] == "suspended"
    # Never active before (no contact joined): reactivating is refused (tests/test_abuse.py
    # has a vendor that was active come back).
    assert api.patch(url, json={"status": "active"}).status_code == 409
    assert api.patch(url, json={"status": "archived"}).json()["status"] == "archived"
    assert api.patch(url, json={"status": "invited"}).status_code == 409


def test_contact_email_is_unique_per_organisation(api: ApiClient, owner: str) -> None:
    create_vendor(api, owner, contact_email="same@vendor.example.com")
    duplicate = api.post(VENDORS, json={"name": "B", "contact_email": "same@VENDOR.example.com"})
    assert duplicate.status_code == 409
    other = create_vendor(api, owner, contact_email="other@vendor.example.com")
    clash = api.patch(f"{VENDORS}/{other['id']}", json={"contact_email": "same@vendor.example.com"})
    assert clash.status_code == 409
    # Another organisation may use the same address.
    rival = signup(api, org="Rival")["access_token"]
    create_vendor(api, rival, contact_email="same@vendor.example.com")


def test_malformed_and_wrong_type_bodies(api: ApiClient, owner: str) -> None:
    broken = api.post(VENDORS, content=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    form = api.post(VENDORS, content=b"name=x", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    not_object = api.post(VENDORS, json=["a", "b"])
    assert not_object.status_code == 422


def test_pagination_covers_every_vendor_exactly_once(api: ApiClient, owner: str) -> None:
    created = [create_vendor(api, owner, name=f"Vendor {n:03d}")["id"] for n in range(125)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        response = api.get(VENDORS, params=params)
        assert response.status_code == 200
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 7
    assert len(seen) == len(set(seen)) == 125
    assert set(seen) == set(created)
    assert seen == list(reversed(created))  # newest first


def test_default_and_maximum_page_sizes(api: ApiClient, owner: str) -> None:
    for n in range(55):
        create_vendor(api, owner, name=f"V{n}")
    body = api.get(VENDORS).json()
    assert len(body["items"]) == 50
    assert body["next_cursor"]
    assert len(api.get(VENDORS, params={"limit": 200}).json()["items"]) == 55


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_limit_out_of_range_is_422(api: ApiClient, owner: str, limit: str) -> None:
    response = api.get(VENDORS, params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "limit"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        base64.urlsafe_b64encode(b'["2024-01-01T00:00:00", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(
            b'["2024-01-01T00:00:00", "5f0c6a64-3a5e-4c1b-9a35-0f3c2e7d9b11"]'
        ).decode(),
    ],
    ids=["garbage", "not-base64", "not-a-uuid", "not-a-list", "unsigned"],
)
def test_tampered_cursor_is_422(api: ApiClient, owner: str, cursor: str) -> None:
    response = api.get(VENDORS, params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "cursor"


def test_search_matches_name_or_email_case_insensitively(api: ApiClient, owner: str) -> None:
    create_vendor(api, owner, name="Blue Widgets", contact_email="sales@blue.example.com")
    create_vendor(api, owner, name="Red Gadgets", contact_email="hello@WIDGETCO.example.com")
    create_vendor(api, owner, name="Green Things", contact_email="green@things.example.com")
    create_vendor(api, owner, name="100% Organic", contact_email="pct@organic.example.com")

    def names(**params: str) -> set[str]:
        return {item["name"] for item in api.get(VENDORS, params=params).json()["items"]}

    assert names(q="widget") == {"Blue Widgets", "Red Gadgets"}
    assert names(q="WIDGETS") == {"Blue Widgets"}
    assert names(q="%") == {"100% Organic"}  # LIKE wildcards are matched literally
    assert names(q="_") == set()
    assert names(q="nothing") == set()


def test_status_filter(api: ApiClient, owner: str) -> None:
    keep = create_vendor(api, owner, name="Keep")
    gone = create_vendor(api, owner, name="Gone")
    api.patch(f"{VENDORS}/{gone['id']}", json={"status": "archived"})
    assert [v["id"] for v in api.get(VENDORS, params={"status": "archived"}).json()["items"]] == [
        gone["id"]
    ]
    assert [v["id"] for v in api.get(VENDORS, params={"status": "draft"}).json()["items"]] == [
        keep["id"]
    ]
    assert api.get(VENDORS, params={"status": "bogus"}).status_code == 422


def test_status_filter_and_search_combine_with_pagination(api: ApiClient, owner: str) -> None:
    for n in range(30):
        create_vendor(api, owner, name=f"{'Match' if n % 2 else 'Other'} {n}")
    seen = []
    cursor = None
    while True:
        params = {"q": "match", "status": "draft", "limit": 4}
        if cursor:
            params["cursor"] = cursor
        body = api.get(VENDORS, params=params).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 15


def test_other_organisations_vendors_are_invisible(api: ApiClient) -> None:
    mine = signup(api, org="Mine")["access_token"]
    theirs = signup(api, org="Theirs")["access_token"]
    secret = create_vendor(api, theirs, name="Their vendor")
    create_vendor(api, mine, name="My vendor")
    url = f"{VENDORS}/{secret['id']}"
    for response in (
        api.get(url, token=mine),
        api.patch(url, json={"name": "Hijacked"}, token=mine),
        api.delete(url, token=mine),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    listed = api.get(VENDORS, token=mine).json()["items"]
    assert [v["name"] for v in listed] == ["My vendor"]
    assert api.get(VENDORS, params={"q": "Their"}, token=mine).json()["items"] == []
    # Untouched for its owner.
    assert api.get(url, token=theirs).json()["name"] == "Their vendor"


def test_members_manage_vendors_and_vendor_contacts_are_refused(api: ApiClient) -> None:
    body = signup(api, org="Roles")
    owner = body["access_token"]
    vendor = create_vendor(api, owner)
    tokens = TokenIssuer(api.app.ctx.settings)
    org_id = uuid.UUID(body["organization"]["id"])
    user_id = uuid.UUID(body["user"]["id"])
    member = tokens.issue(Principal(user_id, org_id, Role.MEMBER))
    contact = tokens.issue(Principal(user_id, org_id, Role.VENDOR))
    assert api.get(VENDORS, token=member).status_code == 200
    assert (
        api.post(
            VENDORS, json={"name": "M", "contact_email": "m@v.example.com"}, token=member
        ).status_code
        == 201
    )
    for response in (
        api.get(VENDORS, token=contact),
        api.get(f"{VENDORS}/{vendor['id']}", token=contact),
        api.post(VENDORS, json={"name": "C", "contact_email": "c@v.example.com"}, token=contact),
        api.delete(f"{VENDORS}/{vendor['id']}", token=contact),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_member_role_from_the_database_reaches_the_token(api: ApiClient) -> None:
    owner = signup(api, org="Team", email="boss@example.com")
    member = signup(api, org="Elsewhere", email="member@example.com")

    async def make_member_of_team() -> None:
        await Membership.filter(user_id=member["user"]["id"]).update(
            organization_id=owner["organization"]["id"], role=Role.MEMBER
        )

    api.run(make_member_of_team())
    login = api.post(
        "/api/v1/auth/login",
        json={"email": "member@example.com", "password": "correct horse battery"},
    ).json()
    me = api.get("/api/v1/me", token=login["access_token"]).json()
    assert me["role"] == "member"
    assert me["organization"]["name"] == "Team"


def test_vendor_routes_need_authentication(api: ApiClient) -> None:
    for method, url in [("get", VENDORS), ("post", VENDORS), ("get", f"{VENDORS}/{uuid.uuid4()}")]:
        kwargs: dict[str, Any] = {"json": {}} if method == "post" else {}
        response = api.request(method, url, token="", **kwargs)
        assert response.status_code == 401


def test_unknown_vendor_id_is_404(api: ApiClient, owner: str) -> None:
    assert api.get(f"{VENDORS}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{VENDORS}/not-a-uuid").status_code == 404


def test_large_list_is_gzipped(api: ApiClient, owner: str) -> None:
    for n in range(20):
        create_vendor(api, owner, name=f"Vendor with a long enough name {n}")
    response = api.get(VENDORS, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.json()["items"]) == 20
