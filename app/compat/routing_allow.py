"""A 405 on a route with path parameters carries no `Allow` header.

RFC 9110 (15.5.6): "The origin server MUST generate an Allow header field in a 405
response containing a list of the target resource's currently supported methods."
Sanic's `MethodNotAllowed` sets it from the router's `allowed_methods`, and
sanic-routing 23.12.0 passes them for static paths only: for a dynamic route the
generated finder raises a bare `NoMethod`, and `BaseRouter.resolve` re-raises it as
`e.__class__(str(e), path=path)`, dropping any methods it had. `PUT /health` has its
`Allow: GET, HEAD`; `PUT /api/v1/vendors/{id}` has none (and schemathesis reports it).

Here the error handler asks the router, for each method, whether the path has a
route for it. Only a 405 pays for it (a handful of cached router lookups).
"""

from __future__ import annotations

from typing import Any

from sanic.exceptions import MethodNotAllowed, NotFound

from app.compat import Workaround

WORKAROUND = Workaround(
    name="routing_allow",
    package="sanic-routing",
    written_for="23.12.0",
    upstream="report ready to file: docs/upstream/sanic-routing-405-without-allow.md",
    summary="a 405 on a route with path parameters has no Allow header",
    shown_by="tests/test_http_basics.py::test_allow_completion_can_be_switched_off",
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(router: Any, path: str, host: str | None) -> list[str]:
    """The methods `router` has a route for at `path` (for the `Allow` header)."""
    allowed = []
    for method in METHODS:
        try:
            router.get(path, method, host)
        except (MethodNotAllowed, NotFound):
            continue
        allowed.append(method)
    return allowed
