"""/docs/openapi.json is a valid OpenAPI 3 document covering every API route."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from app.settings import Settings
from tests.conftest import make_app
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here


def test_openapi_document_is_valid_and_complete(api: ApiClient) -> None:
    document = api.get("/docs/openapi.json").json()
    validate(document)
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }
    routed = set()
    for route in api.app.router.routes:
        if route.path.startswith("docs") or ".pages." in route.name:
            continue  # the document's own routes; the HTML pages are not the JSON API
        path = "/" + re.sub(r"<(\w+)(?::[^>]+)?>", r"{\1}", route.path)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            routed.add((method, path))
    assert routed, "no routes found"
    assert routed <= documented, routed - documented


def test_operations_are_named_and_links_lead_to_them(api: ApiClient) -> None:
    """Operation ids are the handlers' names (what generated clients call their
    methods), unique; every link names an operation that exists and a parameter it has."""
    document = api.get("/docs/openapi.json").json()
    operations = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    }
    assert {"list_vendors", "create_vendor", "get_vendor", "accept_invitation"} <= set(operations)
    assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in operations), sorted(operations)
    assert len(operations) == sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    )
    links = [
        link
        for operation in operations.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 12
    for link in links:
        target = operations[link["operationId"]]
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, (link, names)


PUBLIC = {
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/invitations/lookup",
    "/api/v1/invitations/accept",
    "/api/v1/auth/verify",
}


def test_api_operations_document_errors_and_auth(api: ApiClient) -> None:
    document = api.get("/docs/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert any(code.startswith("4") for code in responses), (method, path)
            if path not in PUBLIC:
                assert operation.get("security") == [{"bearer": []}], (method, path)
                assert "401" in responses, (method, path)
            if method == "patch" or (method == "post" and "requestBody" in operation):
                assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]


def test_the_shortest_new_password_is_the_setting(settings: Settings) -> None:
    """A password being set must have PASSWORD_MIN_LENGTH characters: the document
    says the same number, whatever it is set to; a password already held any length."""
    with ApiClient(make_app(settings.replace(PASSWORD_MIN_LENGTH=14))) as api:
        schemas = api.get("/docs/openapi.json").json()["components"]["schemas"]
        short = api.post(
            "/api/v1/auth/signup",
            json={
                "email": "short@example.com",
                "password": "x" * 13,
                "full_name": "Short",
                "organization_name": "Short",
            },
        )
    assert schemas["SignupIn"]["properties"]["password"]["minLength"] == 14
    assert schemas["PasswordChangeIn"]["properties"]["new_password"]["minLength"] == 14
    assert schemas["PasswordResetConfirmIn"]["properties"]["new_password"]["minLength"] == 14
    assert schemas["PasswordChangeIn"]["properties"]["current_password"]["minLength"] == 1
    assert schemas["LoginIn"]["properties"]["password"]["minLength"] == 1
    assert short.status_code == 422
    assert short.json()["error"]["details"][0]["field"] == "password"


def test_each_error_status_has_its_own_example(api: ApiClient) -> None:
    """(One shared example once showed `validation_failed` under 401 and 403.)"""
    document = api.get("/docs/openapi.json").json()
    codes = set(document["components"]["schemas"]["ErrorCode"]["enum"])
    seen: dict[str, set[str]] = {}
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                example = response.get("content", {}).get("application/json", {}).get("example")
                if status.startswith(("4", "5")) and example is not None:
                    assert example["error"]["code"] in codes
                    seen.setdefault(status, set()).add(example["error"]["code"])
    assert seen["401"] == {"unauthorized"}
    assert seen["403"] == {"forbidden"}
    assert seen["422"] == {"validation_failed"}
    assert seen["503"] == {"database_unavailable"}
