"""Authentication and authorization in one place: a decorator on each handler.

`@authorized(ORG_STAFF)` checks the bearer token (no database query), puts the
`Principal` on the request (`ApiRequest.principal`), and refuses other roles with 403.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sanic import Request

from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.tokens import InvalidToken
from app.errors import Forbidden, Unauthenticated
from app.http.request import ApiRequest
from app.http.types import context_of

P = ParamSpec("P")
R = TypeVar("R")
Handler = Callable[Concatenate[Request, P], Coroutine[Any, Any, R]]


def principal_of(request: Request) -> Principal:
    """The caller of a request that passed `authorized`."""
    api_request: ApiRequest = request  # type: ignore[assignment]  # the app's request class
    principal = api_request.principal
    if principal is None:
        raise RuntimeError("principal_of() in a handler without @authorized")
    return principal


def authenticate(request: Request) -> Principal:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an access token: Authorization: Bearer <token>")
    try:
        return context_of(request).accounts.sessions.verify(token.strip())
    except InvalidToken:
        raise Unauthenticated("The access token is invalid or expired") from None


def optional_principal(request: Request) -> Principal | None:
    """The caller of a public endpoint, if it sent a bearer token (which must be valid)."""
    if not request.headers.get("authorization"):
        return None
    return authenticate(request)


def client_ip(request: Request) -> str:
    """The client's address (behind a proxy, as FORWARDED_SECRET/PROXIES_COUNT say)."""
    return str(request.remote_addr or request.ip)


def authorized(roles: Collection[Role]) -> Callable[[Handler[P, R]], Handler[P, R]]:
    allowed = frozenset(roles)

    def decorator(handler: Handler[P, R]) -> Handler[P, R]:
        # Not a coroutine itself: it checks, then hands back the handler's coroutine,
        # which Sanic awaits. One coroutine fewer to resume at every await inside.
        @wraps(handler)
        def wrapper(request: Request, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]:
            principal = authenticate(request)
            if principal.role not in allowed:
                raise Forbidden(f"This is not available to the {principal.role} role")
            api_request: ApiRequest = request  # type: ignore[assignment]
            api_request.principal = principal
            return handler(request, *args, **kwargs)

        return cast(Handler[P, R], wrapper)

    return decorator
