"""Sessions: a short-lived access token (JWT, checked without the database) and an
opaque refresh token (random, stored as a hash, single use) per login.

Refreshing marks the presented token used and issues the next one in the same family,
reading the membership and its role afresh. Presenting a used token again means it
was copied: the whole family is revoked, so the thief's and the owner's sessions both
end. After a password change, a removal from an organisation or a suspension, refresh
fails at once; an access token already issued works for at most ACCESS_TOKEN_TTL.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from app.accounts.models import Membership, RefreshToken
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.tokens import TokenIssuer
from app.errors import Forbidden, Unauthenticated
from app.runtime.clock import utc_now
from app.runtime.db import unit_of_work
from app.runtime.tokens import hash_token, new_token

REFRESH_DEAD = "The refresh token is invalid, used, expired or revoked; sign in again"
NOT_A_MEMBER = "You are not a member of that organisation"


class _Refused(Enum):
    DEAD = "dead"
    REUSED = "reused"
    NOT_A_MEMBER = "not_a_member"


MembershipGate = Callable[[uuid.UUID, uuid.UUID, Role], Awaitable[str | None]]
"""Why a membership (user, organisation, role) may not be used right now, or None.
Areas above accounts supply it (a suspended vendor's contact is shut out)."""


async def open_gate(_user: uuid.UUID, _organization: uuid.UUID, _role: Role) -> None:
    return None


@dataclass(frozen=True)
class Blocked:
    reason: str


@dataclass(frozen=True)
class Refreshed:
    principal: Principal
    tokens: dict[str, Any]


class Sessions:
    def __init__(
        self, tokens: TokenIssuer, refresh_ttl: int, gate: MembershipGate = open_gate
    ) -> None:
        self._tokens = tokens
        self._refresh_ttl = timedelta(seconds=refresh_ttl)
        self.gate = gate
        self.verify: Callable[[str], Principal] = tokens.verify
        """The caller of an access token (the issuer's own check, on every request)."""

    async def open(
        self, principal: Principal, *, family_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        """A new token pair for `principal` (call inside the caller's transaction); the
        membership becomes the one used last."""
        now = utc_now()
        refresh, refresh_hash = new_token()
        await RefreshToken.create(
            family_id=family_id or uuid.uuid4(),
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            token_hash=refresh_hash,
            expires_at=now + self._refresh_ttl,
        )
        await Membership.filter(
            user_id=principal.user_id, organization_id=principal.organization_id
        ).update(last_used_at=now)
        return {
            "access_token": self._tokens.issue(principal),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self._tokens.ttl,
            "refresh_expires_in": int(self._refresh_ttl.total_seconds()),
        }

    async def refresh(self, refresh_token: str, organization_id: uuid.UUID | None) -> Refreshed:
        outcome = await self._rotate(refresh_token, organization_id)
        if outcome is _Refused.NOT_A_MEMBER:
            raise Forbidden(NOT_A_MEMBER)
        if isinstance(outcome, Blocked):
            raise Forbidden(outcome.reason)
        if isinstance(outcome, _Refused):
            raise Unauthenticated(REFRESH_DEAD)
        return outcome

    @unit_of_work
    async def _rotate(
        self, refresh_token: str, organization_id: uuid.UUID | None
    ) -> Refreshed | _Refused | Blocked:
        """One transaction; a refusal is returned, not raised, so that a family revoked
        on reuse stays revoked (raising would roll the revocation back)."""
        now = utc_now()
        row = (
            await RefreshToken.filter(token_hash=hash_token(refresh_token))
            .select_for_update()
            .first()
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return _Refused.DEAD
        target = organization_id or row.organization_id
        membership = await Membership.get_or_none(user_id=row.user_id, organization_id=target)
        if membership is None and target != row.organization_id:
            return _Refused.NOT_A_MEMBER  # the presented token stays usable
        if membership is not None:
            reason = await self.gate(row.user_id, target, membership.role)
            if reason is not None:
                return Blocked(reason)  # the presented token stays as it was
        claimed = await RefreshToken.filter(id=row.id, used_at__isnull=True).update(used_at=now)
        if not claimed or membership is None:
            # Used before (a copy is being replayed) or the membership is gone.
            await RefreshToken.filter(family_id=row.family_id, revoked_at__isnull=True).update(
                revoked_at=now
            )
            return _Refused.REUSED if not claimed else _Refused.DEAD
        principal = Principal(row.user_id, target, membership.role)
        tokens = await self.open(principal, family_id=row.family_id)
        return Refreshed(principal, tokens)

    @unit_of_work
    async def close(self, refresh_token: str) -> None:
        """Logout: the token's whole family is revoked (unknown tokens change nothing)."""
        row = await RefreshToken.get_or_none(token_hash=hash_token(refresh_token))
        if row is not None:
            await RefreshToken.filter(family_id=row.family_id, revoked_at__isnull=True).update(
                revoked_at=utc_now()
            )

    @staticmethod
    async def revoke_user(user_id: uuid.UUID) -> int:
        """Every session of a user (password changed or reset)."""
        return await RefreshToken.filter(user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=utc_now()
        )

    @staticmethod
    async def revoke_membership(user_id: uuid.UUID, organization_id: uuid.UUID) -> int:
        """A user's sessions in one organisation (removed, or their vendor suspended)."""
        return await RefreshToken.filter(
            user_id=user_id, organization_id=organization_id, revoked_at__isnull=True
        ).update(revoked_at=utc_now())

    @staticmethod
    async def purge_expired(now: datetime | None = None) -> int:
        """Refresh tokens past their expiry are of no use to anyone (housekeeping)."""
        return await RefreshToken.filter(expires_at__lt=now or utc_now()).delete()
