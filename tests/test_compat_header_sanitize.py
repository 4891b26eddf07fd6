"""The faster header sanitising gives exactly Sanic's result, on every kind of value,
and Sanic's responses use it (`app/compat/header_sanitize.py`)."""

from __future__ import annotations

import random

import pytest
from sanic.response import HTTPResponse
from sanic.response.types import HEADER_TRANSLATION_TABLE, BaseHTTPResponse

from app.compat import header_sanitize
from app.settings import Settings
from tests.conftest import make_app

pytestmark = pytest.mark.any_backend  # the database is incidental here


def test_same_result_as_sanics_own_for_any_value() -> None:
    alphabet = "ab:; =-_/\r\n\x00\t\x7fé€😀"
    rng = random.Random(20261130)
    values = ["", "\r\n", "\x00", "a\rb\nc\x00d", "plain-value", "x" * 300]
    values += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(5000)]
    for value in values:
        assert header_sanitize.sanitize_header_value(value) == value.translate(
            HEADER_TRANSLATION_TABLE
        ), repr(value)


def _response(status: int, headers: dict[str, object]) -> HTTPResponse:
    response = HTTPResponse(b"{}", status=status, content_type="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response


def test_processed_headers_are_sanics_own_pairs() -> None:
    alphabet = "ab:; =-_/\r\n\x00\té€"
    rng = random.Random(20261205)
    cases: list[tuple[int, dict[str, object]]] = [
        (200, {}),
        (200, {"content-length": 365, "X-Evil": "a\r\nSet-Cookie: x=1", "Bad\rName": "v"}),
        (204, {"X-Request-ID": "abc"}),
        (304, {"ETag": '"x"'}),
        (101, {"Upgrade": "websocket"}),
        (201, {"Content-Type": "text/plain", "X-Unicode": "é€😀"}),
    ]
    for _ in range(300):
        headers: dict[str, object] = {
            "".join(rng.choices("abcXYZ-", k=rng.randint(1, 8))): "".join(
                rng.choices(alphabet, k=rng.randint(0, 20))
            )
            for _ in range(rng.randint(0, 6))
        }
        cases.append((rng.choice([200, 201, 204, 304, 404, 500]), headers))
    original = header_sanitize._ORIGINAL_PROCESSED
    for status, headers in cases:
        ours = header_sanitize.processed_headers(_response(status, headers))
        sanics = list(original.fget(_response(status, headers)))
        assert ours == sanics, (status, headers)


def test_responses_send_sanitised_headers(settings: Settings) -> None:
    make_app(settings)  # applies it
    assert BaseHTTPResponse._sanitize_header_value is header_sanitize.sanitize_header_value
    assert BaseHTTPResponse.processed_headers.fget is header_sanitize.processed_headers
    response = HTTPResponse(b"{}", headers={"X-Evil": "a\r\nSet-Cookie: x=1", "X-Ok": "fine"})
    headers = dict(response.processed_headers)
    assert headers[b"X-Evil"] == b"aSet-Cookie: x=1"
    assert headers[b"X-Ok"] == b"fine"
    make_app(settings.replace(COMPAT_DISABLED=("header_sanitize",)))
    assert BaseHTTPResponse._sanitize_header_value is not header_sanitize.sanitize_header_value
    assert BaseHTTPResponse.processed_headers.fget is not header_sanitize.processed_headers
    assert (
        dict(HTTPResponse(b"{}", headers={"X-Evil": "a\r\nb"}).processed_headers)[b"X-Evil"]
        == b"ab"
    )
    header_sanitize.apply()
