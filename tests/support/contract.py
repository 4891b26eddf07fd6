"""Every response a test receives is checked against the app's own OpenAPI document.

So the document cannot drift from the code: a status an operation answers but does not
document, a field a response has but its schema lacks (or the reverse), a wrong type or
format — each fails the test that saw it. Paths and methods the document does not have
(test-only routes, unknown paths, wrong methods) have nothing to check against.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict


class _Request:
    """An httpx request as openapi-core reads one."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query.decode(), keep_blank_values=True)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("Content-Type", ""))


class _Response:
    """An httpx response as openapi-core reads one (the body already decompressed)."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = str(response.headers.get("Content-Type", ""))
        self.headers = Headers(dict(response.headers))
        self.data = response.content


@functools.lru_cache(maxsize=8)
def _checker(canonical_document: str) -> OpenAPI:
    """Reading a document into a checker takes openapi-core 70-140 ms, and every test's
    app serves one of the same few documents (they differ only with the blueprints or
    docs settings): each distinct one is read once per run. The key is the document's
    whole content, so a test whose app documents something else gets its own."""
    return OpenAPI.from_dict(json.loads(canonical_document))


class ResponseContract:
    def __init__(self, document: dict[str, Any]) -> None:
        self._openapi = _checker(json.dumps(document, sort_keys=True))

    def check(self, response: httpx.Response) -> None:
        """Raise if `response` is not what the document says its operation answers."""
        try:
            self._openapi.validate_response(_Request(response.request), _Response(response))
        except (PathNotFound, OperationNotFound):
            return  # nothing documented to check against
