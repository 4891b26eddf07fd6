"""A response documented without a body has no `content` in the OpenAPI document.

sanic-ext 25.12 wraps every documented response's content in `MediaType.all(...)`, so
a response declared with no content (`204 No Content`, an empty 202) is published as
`content: {"*/*": {"schema": {}}}`: generated clients then try to decode a body that
never comes, and schema-driven fuzzers expect one. `apply()` makes `Response.make`
keep `content=None` for such responses; sanic-ext already leaves `None` fields out of
a Response when it serialises the document.
"""

from __future__ import annotations

from typing import Any

from sanic_ext.extensions.openapi import definitions

from app.compat import Workaround

WORKAROUND = Workaround(
    name="sanic_ext_no_content",
    package="sanic-ext",
    written_for="25.12.0",
    upstream="report ready to file: docs/upstream/sanic-ext-response-without-content.md",
    summary="a documented response without a body is published with */* content",
    shown_by="tests/test_upstream_still_broken.py::test_sanic_ext_publishes_a_response_without_content_with_a_body",
)

_original_make = definitions.Response.make


def _make(content: Any, description: str | None = None, **kwargs: Any) -> definitions.Response:
    if content is None:
        return definitions.Response(None, description=description or "No content", **kwargs)
    made: definitions.Response = _original_make(content, description, **kwargs)
    return made


def apply() -> None:
    definitions.Response.make = staticmethod(_make)  # type: ignore[method-assign]
