"""Signed access tokens (JWT). The token carries who and where, so a request needs no
database round trip to know its caller; lifetimes are short for that reason."""

from __future__ import annotations

import time
import uuid

import jwt

from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.settings import Settings


class InvalidToken(Exception):
    pass


class TokenIssuer:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.SECRET_KEY.get_secret_value()
        self._algorithm = settings.JWT_ALGORITHM
        self.ttl = settings.ACCESS_TOKEN_TTL

    def issue(self, principal: Principal) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": str(principal.user_id),
            "org": str(principal.organization_id),
            "role": principal.role.value,
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={"require": ["exp", "iat", "sub", "org", "role"]},
            )
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                organization_id=uuid.UUID(claims["org"]),
                role=Role(claims["role"]),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken(str(error)) from None
