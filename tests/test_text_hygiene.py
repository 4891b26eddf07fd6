"""Control characters are refused at the edge (422), in every text field of every
request body and query, found by walking the OpenAPI document rather than a list kept
by hand. A NUL reaching PostgreSQL would be a 500; a line break in a name would break
an email header at send time."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pydantic
import pytest

from app.fields import (
    MULTILINE_PATTERN,
    NOT_BLANK_MULTILINE_PATTERN,
    NOT_BLANK_SINGLE_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    StrictModel,
    trimmed,
)
from app.settings import Settings
from tests.conftest import make_app
from tests.support.accounts import create_vendor, signup
from tests.support.client import ApiClient
from tests.support.invitations import accept, invite, receive
from tests.support.smtp import SmtpServer, token_in

pytestmark = pytest.mark.any_backend  # the database is incidental here

BAD_VALUES = ("bad\x00value", "two\nlines", "bell\x07", "c1\x85control", "sep\u2028arator")
# Formats whose own validation refuses these values anyway; what is tested here is the
# rule for free text, so only plain strings count.
PLAIN = {None, "email", "uri"}


@pytest.fixture
def setup(mail_settings: Settings, smtp: SmtpServer) -> Iterator[tuple[ApiClient, dict[str, Any]]]:
    with ApiClient(make_app(mail_settings)) as api:
        owner = signup(api, email="olive@acme.example.com")
        api.token = owner["access_token"]
        vendor = create_vendor(api, api.token)
        invitation = invite(api, vendor["id"])
        contact = accept(api, token_in(receive(api, smtp, 1)[0]))
        assert contact.status_code == 201
        known = {
            "vendor_id": vendor["id"],
            "invitation_id": invitation["id"],
            "user_id": owner["user"]["id"],
            "contact_token": contact.json()["access_token"],
        }
        yield api, known


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def is_text(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        if is_text(document, resolve(document, option)):
            return True
    schema = resolve(document, schema)
    return schema.get("type") == "string" and "enum" not in schema and schema.get("format") in PLAIN


def text_fields(document: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, where, field) for every plain text field of every request."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                properties = resolve(document, body["schema"]).get("properties", {})
                for name, schema in properties.items():
                    if is_text(document, schema):
                        yield method, path, "body", name
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and is_text(document, parameter["schema"]):
                    yield method, path, "query", parameter["name"]


def field_options(
    document: dict[str, Any], method: str, path: str, where: str, field: str
) -> list[dict[str, Any]]:
    operation = document["paths"][path][method]
    if where == "body":
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        field_schema = resolve(document, body)["properties"][field]
    else:
        (field_schema,) = [p["schema"] for p in operation["parameters"] if p["name"] == field]
    return [resolve(document, o) for o in field_schema.get("anyOf", [field_schema])]


def required_text(document: dict[str, Any], method: str, path: str, where: str, field: str) -> bool:
    options = field_options(document, method, path, where, field)
    return any(o.get("minLength", 0) > 0 for o in options)


def documented_patterns(
    document: dict[str, Any], method: str, path: str, where: str, field: str
) -> list[str]:
    operation = document["paths"][path][method]
    if where == "body":
        schema = resolve(
            document, operation["requestBody"]["content"]["application/json"]["schema"]
        )
        field_schema = schema["properties"][field]
    else:
        (field_schema,) = [p["schema"] for p in operation["parameters"] if p["name"] == field]
    options = [resolve(document, o) for o in field_schema.get("anyOf", [field_schema])]
    return [o["pattern"] for o in options if "pattern" in o]


class Sample(StrictModel):
    multiline: ClassVar[frozenset[str]] = frozenset({"notes", "story"})
    name: str | None = None
    title: str | None = pydantic.Field(default=None, min_length=1, max_length=2)
    notes: str | None = None
    story: str | None = pydantic.Field(default=None, min_length=1)


def documented(schema: dict[str, Any], value: str) -> bool:
    """Whether `value` is valid by this JSON Schema string property (or its string option)."""
    (option,) = [o for o in schema.get("anyOf", [schema]) if o.get("type") == "string"]
    return re.fullmatch(option["pattern"], value) is not None and option.get("minLength", 0) <= len(
        value
    ) <= option.get("maxLength", len(value))


def test_the_documented_text_rules_are_the_rules_exactly() -> None:
    """Every string of up to three characters from an alphabet of edge cases, in a
    single-line and a multi-line field, with and without lengths: what the JSON Schema
    allows and what validation accepts agree on each (a client validating against the
    document, or a fuzzer, sees what the server does)."""
    alphabet = ["a", " ", "\n", "\r", "\t", "\x00", "\x1c", "\x7f", "\x85", "\xa0", "\u2028"]
    properties = Sample.model_json_schema()["properties"]
    disagreements = []
    for length in (1, 2, 3):
        for letters in itertools.product(alphabet, repeat=length):
            value = "".join(letters)
            for field, schema in properties.items():
                try:
                    Sample.model_validate({field: value})
                    accepted = True
                except pydantic.ValidationError:
                    accepted = False
                if documented(schema, value) != accepted:
                    disagreements.append((field, value, accepted))
    assert disagreements == []


def test_every_text_field_refuses_control_characters(
    setup: tuple[ApiClient, dict[str, Any]],
) -> None:
    api, known = setup
    document = api.get("/docs/openapi.json").json()
    fields = list(text_fields(document))
    # The walk must find the fields this rule exists for (a broken walk finds nothing).
    assert {
        ("post", "/api/v1/auth/signup", "body", "organization_name"),
        ("post", "/api/v1/vendors", "body", "name"),
        ("get", "/api/v1/vendors", "query", "q"),
        ("post", "/api/v1/invitations", "body", "message"),
    } <= set(fields)
    assert len(fields) >= 30, fields
    for method, path, where, field in fields:  # ... and the document says so
        patterns = documented_patterns(document, method, path, where, field)
        multiline = field in {"message", "notes"}
        expected = MULTILINE_PATTERN if multiline else SINGLE_LINE_PATTERN
        if required_text(document, method, path, where, field):
            expected = NOT_BLANK_MULTILINE_PATTERN if multiline else NOT_BLANK_SINGLE_LINE_PATTERN
        if field == "phone":  # its own pattern, which refuses these characters anyway
            expected = trimmed(r"[0-9+()./ -]*")
        assert patterns in ([], [expected]), (method, path, field, patterns)
        assert patterns or (where == "body" and field in {"email", "contact_email", "website"})
    for method, template, where, field in fields:
        path = template
        for name, value in known.items():
            path = path.replace("{" + name + "}", str(value))
        for bad in BAD_VALUES:
            if bad == "two\nlines" and field in {"message", "notes"}:
                continue  # multi-line fields take line breaks (checked below)
            kwargs: dict[str, Any] = {"json": {field: bad}} if where == "body" else {}
            if where == "query":
                kwargs["params"] = {field: bad}
            response = api.request(method, path, **kwargs)
            if response.status_code == 403:  # the vendor contact's own endpoints
                response = api.request(method, path, token=known["contact_token"], **kwargs)
            assert response.status_code == 422, (method, path, field, repr(bad), response.text)
            details = response.json()["error"]["details"]
            assert any(d["field"] == field for d in details), (method, path, field, details)


def test_multi_line_fields_keep_line_breaks_and_tabs(
    setup: tuple[ApiClient, dict[str, Any]],
) -> None:
    api, known = setup
    created = api.post(
        "/api/v1/vendors",
        json={"name": "Lines", "contact_email": "l@l.example.com", "notes": "one\r\ntwo\tthree"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["notes"] == "one\ntwo\tthree"
    assert (
        api.patch(f"/api/v1/vendors/{known['vendor_id']}", json={"notes": "a\nb"}).json()["notes"]
        == "a\nb"
    )
