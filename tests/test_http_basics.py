"""Errors, request ids, JSON rendering and health through real HTTP on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.http.request import REQUESTS, OnrampRequest
from app.settings import Settings
from tests.conftest import ALL_BLUEPRINTS, make_app
from tests.support.accounts import signup
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here

SAMPLE = "tests.support.sample_bp"


@pytest.fixture
def sample_api(settings: Settings) -> Iterator[ApiClient]:
    app = make_app(settings.replace(BLUEPRINTS=(*ALL_BLUEPRINTS, SAMPLE)))
    with ApiClient(app) as client:
        yield client


def assert_envelope(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


def test_health_is_ok(api: ApiClient) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_the_database(api: ApiClient) -> None:
    response = api.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_ready_is_503_naming_the_database_when_it_is_gone(settings: Settings) -> None:
    broken = settings.replace(
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT=0.5
    )
    with ApiClient(make_app(broken)) as client:
        error = assert_envelope(client.get("/ready"), 503, "not_ready")
        assert error["details"][0]["check"] == "database"
        assert client.get("/health").status_code == 200  # liveness touches nothing


def test_ready_names_an_outbox_folder_that_can_no_longer_be_written(
    settings: Settings, tmp_path: Path
) -> None:
    outbox = tmp_path / "mail"
    with ApiClient(make_app(settings.replace(SMTP_HOST="", OUTBOX_DIR=str(outbox)))) as api:
        outbox.mkdir()
        assert api.get("/ready").status_code == 200
        outbox.rmdir()
        outbox.write_text("not a folder")  # (as root, permissions would not stop a write)
        ready = api.get("/ready")
    assert ready.status_code == 503
    assert {"check": "mail", "error": f"OUTBOX_DIR={outbox} is not writable"} in ready.json()[
        "error"
    ]["details"]


def test_unknown_route_is_json_404(api: ApiClient) -> None:
    assert_envelope(api.get("/no/such/thing"), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(api: ApiClient) -> None:
    response = api.delete("/health")
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def allow(response: object) -> set[str]:
    return set(response.headers["Allow"].replace(" ", "").split(","))  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["put", "post", "trace", "connect", "purge"])
def test_405_on_a_route_with_parameters_has_allow(api: ApiClient, method: str) -> None:
    """sanic-routing drops the allowed methods of dynamic routes (app.compat.routing_allow):
    RFC 9110 requires them in `Allow`, whatever the method asked for."""
    vendor = "/api/v1/vendors/7a778c19-1ea7-41d7-ad50-c2ed51275f71"
    answers = api.concurrently(
        (method.upper(), vendor, {}),
        (method.upper(), "/api/v1/members/7a778c19-1ea7-41d7-ad50-c2ed51275f71", {}),
        ("GET", "/api/v1/invitations/7a778c19-1ea7-41d7-ad50-c2ed51275f71/revoke", {}),
    )
    assert [answer.status_code for answer in answers] == [405, 405, 405]
    assert allow(answers[0]) == {"GET", "HEAD", "PATCH", "DELETE"}
    assert allow(answers[1]) == {"PATCH", "DELETE"}
    assert allow(answers[2]) == {"POST"}


def test_allow_completion_can_be_switched_off(settings: Settings) -> None:
    app = make_app(settings.replace(COMPAT_DISABLED=("routing_allow",)))
    with ApiClient(app) as api:
        (response,) = api.concurrently(
            ("PUT", "/api/v1/vendors/7a778c19-1ea7-41d7-ad50-c2ed51275f71", {})
        )
    assert response.status_code == 405
    assert "Allow" not in response.headers  # what sanic-routing 23.12.0 does alone


def test_malformed_json_is_400(sample_api: ApiClient) -> None:
    response = sample_api.post(
        "/_sample/echo", content=b'{"a": ', headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/invitations", {"vendor_id": ""}),  # blank is no id, not a missing one
        ("/api/v1/vendors", {"status": ""}),
        ("/api/v1/audit-events", {"until": "0.5"}),  # pydantic alone: a Unix time
        ("/api/v1/audit-events", {"since": "2026-11-30T09:00:00"}),  # no offset
    ],
)
def test_queries_accept_what_the_document_says_and_nothing_else(
    api: ApiClient, path: str, params: dict[str, str]
) -> None:
    token = signup(api)["access_token"]
    response = api.get(path, params=params, token=token)
    assert_envelope(response, 422, "validation_failed")
    assert response.json()["error"]["details"][0]["field"] == next(iter(params))


@pytest.mark.parametrize(
    "body",
    [
        {"token": "x" * 43, "release": 0},  # no boolean
        {"token": 12345},  # no string
    ],
)
def test_bodies_are_read_strictly(api: ApiClient, body: dict[str, object]) -> None:
    assert_envelope(api.post("/api/v1/auth/verify", json=body), 422, "validation_failed")


def test_a_date_time_query_with_an_offset_is_accepted(api: ApiClient) -> None:
    token = signup(api)["access_token"]
    response = api.get(
        "/api/v1/audit-events", params={"since": "2026-11-30T09:00:00+01:00"}, token=token
    )
    assert response.status_code == 200, response.text


def test_wrong_content_type_is_415(sample_api: ApiClient) -> None:
    response = sample_api.post(
        "/_sample/echo",
        content=b"a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(response, 415, "unsupported_media_type")


def test_json_body_round_trips(sample_api: ApiClient) -> None:
    response = sample_api.post("/_sample/echo", json={"a": [1, "ü"]})
    assert response.status_code == 200
    assert response.json() == {"received": {"a": [1, "ü"]}}


def test_oversized_body_is_413(settings: Settings) -> None:
    app = make_app(settings.replace(BLUEPRINTS=(*ALL_BLUEPRINTS, SAMPLE), REQUEST_MAX_SIZE=1000))
    with ApiClient(app) as client:
        response = client.post(
            "/_sample/echo",
            content=b'{"a": "' + b"x" * 5000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert_envelope(response, 413, "payload_too_large")


def test_unhandled_exception_is_500_without_traceback(sample_api: ApiClient) -> None:
    error = assert_envelope(sample_api.get("/_sample/boom"), 500, "internal_error")
    assert error["details"] == []
    assert "secret detail" not in error["message"]
    assert "Traceback" not in str(error)


def test_development_shows_the_traceback(settings: Settings) -> None:
    app = make_app(settings.replace(BLUEPRINTS=(*ALL_BLUEPRINTS, SAMPLE), SHOW_ERROR_DETAILS=True))
    with ApiClient(app) as client:
        error = assert_envelope(client.get("/_sample/boom"), 500, "internal_error")
        assert "RuntimeError" in "".join(error["details"][0]["traceback"])


def test_sane_request_id_is_echoed(api: ApiClient) -> None:
    response = api.get("/ready", headers={"X-Request-ID": "client-abc.123"})
    assert response.headers["X-Request-ID"] == "client-abc.123"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 200, "inject\u00e9"])
def test_insane_request_id_is_replaced(api: ApiClient, incoming: str) -> None:
    response = api.get("/ready", headers={"X-Request-ID": incoming.encode("utf-8")})
    generated = response.headers["X-Request-ID"]
    assert generated != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_every_response_has_a_request_id(sample_api: ApiClient) -> None:
    for path in ["/ready", "/nope", "/_sample/boom", "/_sample/big-json", "/_sample/stream"]:
        assert sample_api.get(path).headers.get("X-Request-ID"), path


def test_request_ids_differ_between_requests(api: ApiClient) -> None:
    ids = {api.get("/ready").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


def test_serving_a_request_writes_no_attribute_of_the_request_class(api: ApiClient) -> None:
    # On CPython 3.11 a class attribute written per request (a counter, say) undoes the
    # interpreter's specialised lookups on every request object (OnrampRequest.__init__).
    api.get("/ready")  # the client's start is behind us
    before = dict(vars(OnrampRequest))
    answered, in_flight = REQUESTS.answered, REQUESTS.in_flight()
    for path in ["/ready", "/nope", "/api/v1/me", "/health"]:
        api.get(path)
    assert dict(vars(OnrampRequest)) == before
    assert REQUESTS.answered - answered == 4
    assert REQUESTS.in_flight() == in_flight  # /health (no response hooks) included


def test_docs_are_served_when_enabled(api: ApiClient) -> None:
    response = api.get("/docs/openapi.json")
    assert response.status_code == 200
    assert "/health" in response.json()["paths"]


def test_docs_are_absent_when_disabled(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(DOCS_ENABLED=False))) as client:
        assert_envelope(client.get("/docs/openapi.json"), 404, "not_found")


def test_gzip_response_decodes_to_the_same_json(sample_api: ApiClient) -> None:
    plain = sample_api.get("/_sample/big-json", headers={"Accept-Encoding": "identity"})
    zipped = sample_api.get("/_sample/big-json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) < len(plain.content)
    assert zipped.num_bytes_downloaded == int(zipped.headers["Content-Length"])
    assert zipped.json() == plain.json()  # httpx decoded the gzip body


def test_head_answers_like_get_without_a_body(api: ApiClient) -> None:
    get = api.get("/health")
    head = api.request("head", "/health")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert api.request("head", "/api/v1/vendors").status_code == 401  # same rules as GET


def test_options_without_cors_is_405_with_allow(api: ApiClient) -> None:
    response = api.request("options", "/health")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_cors_preflight_when_origins_are_configured(settings: Settings) -> None:
    app = make_app(settings.replace(CORS_ORIGINS="https://app.example.com"))
    with ApiClient(app) as client:
        preflight = client.request(
            "options",
            "/api/v1/vendors",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        other = client.get("/health", headers={"Origin": "https://evil.example.com"})
        assert "Access-Control-Allow-Origin" not in other.headers


def test_the_liveness_probe_carries_its_request_id_and_nothing_else_it_need_not(
    settings: Settings,
) -> None:
    """A load balancer's health log quotes the id; the probe skips the security headers,
    the log line and the metric (LOG_PROBES puts those back)."""
    with ApiClient(make_app(settings)) as client:
        bare = client.get("/health", headers={"X-Request-ID": "probe-1"})
        assert bare.content == b'{"status":"ok"}'
        assert bare.headers["X-Request-ID"] == "probe-1"
        assert "X-Content-Type-Options" not in bare.headers
        assert (
            client.get("/health").headers["X-Request-ID"]
            != client.get("/health").headers["X-Request-ID"]
        )
    with ApiClient(make_app(settings.replace(LOG_PROBES=True))) as client:
        logged = client.get("/health", headers={"X-Request-ID": "probe-1"})
        assert logged.headers["X-Request-ID"] == "probe-1"
        assert logged.headers["X-Content-Type-Options"] == "nosniff"
