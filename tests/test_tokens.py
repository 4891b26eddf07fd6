"""Access tokens: a verified token is remembered until its own expiry, never longer,
and a token that fails is never remembered."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from app.accounts import tokens as tokens_module
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.tokens import InvalidToken, TokenIssuer
from app.settings import Settings

pytestmark = pytest.mark.any_backend  # the database is incidental here

OTHER_KEY = "another key, of the length HMAC-SHA256 wants"
PRINCIPAL = Principal(uuid.uuid4(), uuid.uuid4(), Role.OWNER)


def test_a_verified_token_is_remembered_until_it_expires(settings: Settings) -> None:
    issuer = TokenIssuer(settings.replace(ACCESS_TOKEN_TTL=2))
    token = issuer.issue(PRINCIPAL)
    assert issuer.verify(token) == PRINCIPAL
    assert issuer.verify(token) == PRINCIPAL  # from memory
    time.sleep(2.1)
    with pytest.raises(InvalidToken):  # its `exp` passed: verified afresh, and refused
        issuer.verify(token)


@pytest.mark.serial  # checks at 0.5 s into a 1 s life: a process paused that long fails it
def test_a_token_lives_its_whole_ttl_and_not_longer(settings: Settings) -> None:
    """Issued at x.9 s, where whole-second claims cut 0.9 s off its life (or, rounded up,
    added 0.1 s): checked by an issuer that has not seen it, half way through its one
    second and 0.05 s after it."""
    issuer, fresh_checker = (TokenIssuer(settings.replace(ACCESS_TOKEN_TTL=1)) for _ in "ab")
    time.sleep((0.9 - time.time()) % 1)  # until the next x.9 s
    before = time.time()
    token = issuer.issue(PRINCIPAL)
    after = time.time()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert before - 0.001 <= claims["exp"] - 1 <= after + 0.001
    time.sleep(max(0.0, after + 0.5 - time.time()))
    assert fresh_checker.verify(token) == PRINCIPAL
    time.sleep(max(0.0, before + 1.05 - time.time()))
    with pytest.raises(InvalidToken):
        TokenIssuer(settings.replace(ACCESS_TOKEN_TTL=1)).verify(token)
    with pytest.raises(InvalidToken):  # nor from the memory of the one that verified it
        fresh_checker.verify(token)


def test_a_forged_token_is_refused_however_close_to_a_remembered_one(settings: Settings) -> None:
    issuer = TokenIssuer(settings)
    token = issuer.issue(PRINCIPAL)
    issuer.verify(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = Role.VENDOR.value  # same signature, other claims
    header, _, signature = token.split(".")
    forged_claims = jwt.encode(claims, OTHER_KEY, algorithm="HS256").split(".")[1]
    for forged in (
        f"{header}.{forged_claims}.{signature}",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        jwt.encode(claims, OTHER_KEY, algorithm="HS256"),
    ):
        with pytest.raises(InvalidToken):
            issuer.verify(forged)
        with pytest.raises(InvalidToken):  # and not remembered as valid either
            issuer.verify(forged)


def test_memory_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 5)
    issuer = TokenIssuer(settings)
    for n in range(12):
        principal = Principal(uuid.uuid4(), uuid.uuid4(), Role.MEMBER)
        assert issuer.verify(issuer.issue(principal)) == principal
        assert len(issuer._verified) <= 5, n
