"""OpenAPI definitions are built without re-reading their class once per field.

sanic-ext 25.12's `Definition.guard` keeps the keyword arguments that are properties of
the definition's class, and evaluates `_properties(self)` (an `inspect.getmembers` walk
and `typing.get_type_hints` on the class) once for every keyword argument, inside the
comprehension. Every documented response, media type and schema is such a definition,
built when the OpenAPI document is published (`app.http.docs.publish`, with DOCS_ENABLED:
every worker's start in development and in the tests). Evaluated once per definition
instead, the result is the same (nothing in the loop changes the definition), and
building our definitions takes about half as long (measured in
docs/upstream/sanic-ext-definition-guard-cost.md).

Applied before the document is published (`app.factory`); switched off with
`COMPAT_DISABLED=sanic_ext_guard`.
"""

from __future__ import annotations

from typing import Any

from sanic_ext.extensions.openapi import types

from app.compat import Workaround

WORKAROUND = Workaround(
    name="sanic_ext_guard",
    package="sanic-ext",
    written_for="25.12.0",
    upstream="not yet reported upstream: docs/upstream/sanic-ext-definition-guard-cost.md",
    summary="each OpenAPI definition re-reads its class's type hints once per field",
)

_ORIGINAL = types.Definition.__dict__["guard"]


def guard(self: types.Definition, fields: dict[str, Any]) -> dict[str, Any]:
    """sanic-ext's `Definition.guard`, with the class's properties read once."""
    known = types._properties(self).keys()
    return {k: v for k, v in fields.items() if k in known or k.startswith("x-")}


def apply(enabled: bool = True) -> None:
    types.Definition.guard = guard if enabled else _ORIGINAL  # type: ignore[method-assign]
