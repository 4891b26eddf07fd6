"""Signed access tokens (JWT). The token carries who and where, so a request needs no
database round trip to know its caller; lifetimes are short for that reason."""

from __future__ import annotations

import time
import uuid

import jwt

from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.settings import Settings

VERIFIED_CACHE_SIZE = 4096
"""Tokens remembered after verification, per worker: about 1 MB at most."""


class InvalidToken(Exception):
    pass


class TokenIssuer:
    """Issues and verifies access tokens.

    Verifying is PyJWT's base64, JSON, HMAC and claim checks, on every request, for the
    same few tokens: a client reuses its token until it expires. So a
    token that passed is remembered, by its exact text, until its own `exp`: a later
    request with it costs one dict lookup. Nothing is lost by it: an access token is
    never revoked before its expiry (that is what refresh tokens are for), a token that
    fails is never remembered, and the memory is bounded (when full, it starts over).
    The dict is keyed by the whole token (HMAC included) and lookups are by hash, so a
    guess that is not a real token finds nothing and goes through full verification.

    `iat` and `exp` carry milliseconds (RFC 7519 NumericDates may be non-integer) and
    `exp` is checked here, not by PyJWT, which reads it as whole seconds: with whole
    seconds a token issued at x.9 s would die 0.9 s before the `expires_in` the client
    was told, and one rounded up would outlive ACCESS_TOKEN_TTL, the bound a revoked
    membership relies on. So a token lives ACCESS_TOKEN_TTL seconds, neither less nor
    more.
    """

    def __init__(self, settings: Settings) -> None:
        self._key = settings.SECRET_KEY.get_secret_value()
        self._algorithm = settings.JWT_ALGORITHM
        self.ttl = settings.ACCESS_TOKEN_TTL
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, principal: Principal) -> str:
        now = round(time.time(), 3)
        claims: dict[str, object] = {
            "sub": str(principal.user_id),
            "org": str(principal.organization_id),
            "role": principal.role.value,
            "iat": now,
            "exp": round(now + self.ttl, 3),
        }
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        principal, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={"require": ["exp", "iat", "sub", "org", "role"], "verify_exp": False},
            )
            expires = float(claims["exp"])
            if not time.time() < expires:  # (also refuses NaN)
                raise InvalidToken("the token has expired")
            principal = Principal(
                user_id=uuid.UUID(claims["sub"]),
                organization_id=uuid.UUID(claims["org"]),
                role=Role(claims["role"]),
            )
            return principal, expires
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken(str(error)) from None
