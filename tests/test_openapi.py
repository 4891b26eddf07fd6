"""/docs/openapi.json is a valid OpenAPI 3 document covering every API route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.support.client import ApiClient


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
        if route.path.startswith("docs"):
            continue
        path = "/" + re.sub(r"<(\w+)(?::[^>]+)?>", r"{\1}", route.path)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            routed.add((method, path))
    assert routed, "no routes found"
    assert routed <= documented, routed - documented


PUBLIC = {
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/invitations/lookup",
    "/api/v1/invitations/accept",
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
