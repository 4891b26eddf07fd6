"""The faster header sanitising gives exactly Sanic's result, on every kind of value,
and Sanic's responses use it (`app/compat/header_sanitize.py`)."""

from __future__ import annotations

import random

from sanic.response import HTTPResponse
from sanic.response.types import HEADER_TRANSLATION_TABLE, BaseHTTPResponse

from app.compat import header_sanitize
from app.settings import Settings
from tests.conftest import make_app


def test_same_result_as_sanics_own_for_any_value() -> None:
    alphabet = "ab:; =-_/\r\n\x00\t\x7fé€😀"
    rng = random.Random(20261130)
    values = ["", "\r\n", "\x00", "a\rb\nc\x00d", "plain-value", "x" * 300]
    values += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(5000)]
    for value in values:
        assert header_sanitize.sanitize_header_value(value) == value.translate(
            HEADER_TRANSLATION_TABLE
        ), repr(value)


def test_responses_send_sanitised_headers(settings: Settings) -> None:
    make_app(settings)  # applies it
    assert BaseHTTPResponse._sanitize_header_value is header_sanitize.sanitize_header_value
    response = HTTPResponse(b"{}", headers={"X-Evil": "a\r\nSet-Cookie: x=1", "X-Ok": "fine"})
    headers = dict(response.processed_headers)
    assert headers[b"X-Evil"] == b"aSet-Cookie: x=1"
    assert headers[b"X-Ok"] == b"fine"
    make_app(settings.replace(COMPAT_DISABLED=("header_sanitize",)))
    assert BaseHTTPResponse._sanitize_header_value is not header_sanitize.sanitize_header_value
    assert (
        dict(HTTPResponse(b"{}", headers={"X-Evil": "a\r\nb"}).processed_headers)[b"X-Evil"]
        == b"ab"
    )
    header_sanitize.apply()
