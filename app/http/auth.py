"""Authentication and authorization in one place: a decorator on each handler.

`@authorized(Role.OWNER, Role.MEMBER)` checks the bearer token, puts the `Principal`
on `request.ctx.principal`, and refuses other roles with 403.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sanic import Request

from app.accounts.models import Role
from app.accounts.tokens import InvalidToken, Principal, TokenIssuer
from app.http.errors import Forbidden, Unauthorized

P = ParamSpec("P")
R = TypeVar("R")
Handler = Callable[Concatenate[Request, P], Coroutine[Any, Any, R]]

ORG_STAFF = (Role.OWNER, Role.MEMBER)
ANY_ROLE = (Role.OWNER, Role.MEMBER, Role.VENDOR)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="onramp"'}


def principal_of(request: Request) -> Principal:
    """The caller of a request that passed `authorized`."""
    principal: Principal = request.ctx.principal
    return principal


def authenticate(request: Request) -> Principal:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send an access token: Authorization: Bearer <token>", headers=_CHALLENGE
        )
    tokens: TokenIssuer = request.app.ctx.tokens
    try:
        return tokens.verify(token.strip())
    except InvalidToken:
        raise Unauthorized("The access token is invalid or expired", headers=_CHALLENGE) from None


def authorized(*roles: Role) -> Callable[[Handler[P, R]], Handler[P, R]]:
    allowed = frozenset(roles)

    def decorator(handler: Handler[P, R]) -> Handler[P, R]:
        @wraps(handler)
        async def wrapper(request: Request, *args: P.args, **kwargs: P.kwargs) -> R:
            principal = authenticate(request)
            if principal.role not in allowed:
                raise Forbidden(f"This is not available to the {principal.role} role")
            request.ctx.principal = principal
            return await handler(request, *args, **kwargs)

        return cast(Handler[P, R], wrapper)

    return decorator
