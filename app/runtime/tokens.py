"""Opaque single-use tokens (invitations, and later refresh and reset tokens).

32 random bytes, URL-safe. Only the SHA-256 hash is stored: a database dump reveals no
usable token. Lookups go by hash; the final comparison is constant-time anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())
