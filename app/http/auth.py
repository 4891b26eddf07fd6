"""Authentication and authorization in one place: a decorator on each handler.

`@authorized(ORG_STAFF)` checks the bearer token (no database query), puts the
`Principal` on the request (`request.ctx.principal`), and refuses other roles with 403.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from functools import update_wrapper
from typing import Any, Concatenate, ParamSpec, TypeVar

from app.accounts.principal import Principal
from app.accounts.roles import ANY_ROLE, Role
from app.accounts.tokens import InvalidToken
from app.errors import Forbidden, Unauthenticated
from app.http import docs
from app.http.request import OnrampRequest, context_of

P = ParamSpec("P")
R = TypeVar("R")
Handler = Callable[Concatenate[OnrampRequest, P], Coroutine[Any, Any, R]]


def principal_of(request: OnrampRequest) -> Principal:
    """The caller of a request that passed `authorized`."""
    principal = request.ctx.principal
    if principal is None:
        raise RuntimeError("principal_of() in a handler without @authorized")
    return principal


def bearer_token(request: OnrampRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750), if any."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(request: OnrampRequest) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Send an access token: Authorization: Bearer <token>")
    try:
        return context_of(request).accounts.sessions.verify(token)
    except InvalidToken:
        raise Unauthenticated("The access token is invalid or expired") from None


def optional_principal(request: OnrampRequest) -> Principal | None:
    """The caller of a public endpoint, if it sent a bearer token (which must be valid)."""
    if not request.headers.get("authorization"):
        return None
    return authenticate(request)


def client_ip(request: OnrampRequest) -> str:
    """The client's address (behind a proxy, as FORWARDED_SECRET/PROXIES_COUNT say)."""
    return str(request.remote_addr or request.ip)


def authorized(roles: Collection[Role]) -> Callable[[Handler[P, R]], Handler[P, R]]:
    allowed = frozenset(roles)

    def decorator(handler: Handler[P, R]) -> Handler[P, R]:
        # Not a coroutine itself: it checks, then hands back the handler's coroutine,
        # which Sanic awaits. One coroutine fewer to resume at every await inside.
        def wrapper(
            request: OnrampRequest, /, *args: P.args, **kwargs: P.kwargs
        ) -> Coroutine[Any, Any, R]:
            principal = authenticate(request)
            if principal.role not in allowed:
                raise Forbidden(f"This is not available to the {principal.role} role")
            request.ctx.principal = principal
            return handler(request, *args, **kwargs)

        update_wrapper(wrapper, handler)
        docs.implies(wrapper, *((401,) if allowed >= ANY_ROLE else (401, 403)))
        return wrapper

    return decorator
