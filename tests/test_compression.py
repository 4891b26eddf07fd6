"""The gzip middleware: each rule, through real HTTP, plus Accept-Encoding parsing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.http.compression import accepts_gzip
from app.settings import Settings
from tests.conftest import ALL_BLUEPRINTS, make_app
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *;q=1", False),
        ("*", True),
        ("*;q=0", False),
        ("identity", False),
        ("identity, *;q=0", False),
        ("br, deflate", False),
        ("", False),
        ("x-gzip", True),
        ("gzip;q=bogus", False),
        (" gzip ; q=0.001 ", True),
    ],
)
def test_accept_encoding_parsing(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.fixture
def sample_api(settings: Settings) -> Iterator[ApiClient]:
    app = make_app(settings.replace(BLUEPRINTS=(*ALL_BLUEPRINTS, "tests.support.sample_bp")))
    with ApiClient(app) as client:
        yield client


def get(api: ApiClient, path: str, accept: str | None = "gzip"):  # type: ignore[no-untyped-def]
    headers = {"Accept-Encoding": accept} if accept is not None else {"Accept-Encoding": ""}
    return api.get(path, headers=headers)


def test_large_json_is_gzipped_with_vary_and_length(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/big-json")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.num_bytes_downloaded == int(response.headers["Content-Length"])
    assert len(response.content) > int(response.headers["Content-Length"])
    assert len(response.json()["items"]) == 200


def test_large_text_is_gzipped(sample_api: ApiClient) -> None:
    assert get(sample_api, "/_sample/big-text").headers["Content-Encoding"] == "gzip"


def test_client_without_gzip_gets_identity_but_vary(sample_api: ApiClient) -> None:
    for accept in ["identity", "gzip;q=0", "br", None]:
        response = get(sample_api, "/_sample/big-json", accept)
        assert "Content-Encoding" not in response.headers, accept
        assert response.headers["Vary"] == "Accept-Encoding"
        assert int(response.headers["Content-Length"]) == len(response.content)


def test_wildcard_accepts_gzip(sample_api: ApiClient) -> None:
    assert get(sample_api, "/_sample/big-json", "*").headers["Content-Encoding"] == "gzip"


def test_small_body_is_left_alone(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/small-json")
    assert "Content-Encoding" not in response.headers
    assert "Vary" not in response.headers


def test_threshold_is_configurable(settings: Settings) -> None:
    app = make_app(
        settings.replace(
            BLUEPRINTS=(*ALL_BLUEPRINTS, "tests.support.sample_bp"), COMPRESS_MIN_SIZE=100_000
        )
    )
    with ApiClient(app) as client:
        assert "Content-Encoding" not in get(client, "/_sample/big-json").headers


def test_level_zero_turns_compression_off(settings: Settings) -> None:
    app = make_app(
        settings.replace(BLUEPRINTS=(*ALL_BLUEPRINTS, "tests.support.sample_bp"), COMPRESS_LEVEL=0)
    )
    with ApiClient(app) as client:
        assert "Content-Encoding" not in get(client, "/_sample/big-json").headers


def test_binary_types_are_left_alone(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/big-binary")
    assert "Content-Encoding" not in response.headers
    assert len(response.content) == 256 * 40


def test_already_encoded_body_is_not_encoded_twice(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/already-encoded")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json() == {"x": "y" * 5000}  # decodes once: it was gzipped once


def test_streamed_response_is_left_alone(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/stream")
    assert "Content-Encoding" not in response.headers
    assert response.text == "x" * 500 * 20


def test_existing_vary_is_extended(sample_api: ApiClient) -> None:
    response = get(sample_api, "/_sample/vary")
    assert response.headers["Vary"] == "Origin, Accept-Encoding"
