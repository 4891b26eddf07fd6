"""Single-use tokens mailed to a user (password reset, address verification).

Only a token's SHA-256 hash is stored. A new one replaces the user's unused ones of the
same purpose; spending is a conditional update, so of two concurrent uses one wins.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from app.accounts.models import OneTimeToken, TokenPurpose
from app.errors import Gone
from app.mail.kinds import MailKind, page_link
from app.runtime.tokens import hash_token, new_token


async def issue(user_id: uuid.UUID, purpose: TokenPurpose, ttl: timedelta) -> str:
    """A new token for `user_id` (call inside a transaction); the old unused ones go."""
    token, token_hash = new_token()
    await OneTimeToken.filter(user_id=user_id, purpose=purpose, used_at__isnull=True).delete()
    await OneTimeToken.create(
        purpose=purpose,
        user_id=user_id,
        token_hash=token_hash,
        expires_at=datetime.now(UTC) + ttl,
    )
    return token


async def usable(token: str, purpose: TokenPurpose, unusable: str) -> OneTimeToken:
    """The unused, unexpired token, or Gone with the `unusable` message."""
    found = await OneTimeToken.get_or_none(token_hash=hash_token(token), purpose=purpose)
    if found is None or found.used_at is not None or found.expires_at <= datetime.now(UTC):
        raise Gone(unusable)
    return found


async def spend(token: str, purpose: TokenPurpose, unusable: str) -> OneTimeToken:
    """Use the token up (inside the caller's transaction), or Gone."""
    found = await usable(token, purpose, unusable)
    now = datetime.now(UTC)
    spent = await OneTimeToken.filter(id=found.id, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not spent:
        raise Gone(unusable)
    return found


class OneTimeTokenMail(MailKind):
    """An email whose link carries a single-use token made when it is sent (`prepare`),
    for one of our pages."""

    page = ""

    def __init__(self, public_base_url: str, ttl_seconds: int) -> None:
        self._public_base_url = public_base_url
        self._ttl = timedelta(seconds=ttl_seconds)

    def link(self, token: str) -> str:
        return page_link(self._public_base_url, self.page, token)
