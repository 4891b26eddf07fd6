"""Outbox sealing: only the same SECRET_KEY opens a sealed token, and nothing else does."""

from __future__ import annotations

import base64

import pytest

from app.mail.sealing import Sealer, UnsealError

KEY = "sealing-test-secret-key-0123456789abcdef"


def test_round_trip_with_a_fresh_nonce_each_time() -> None:
    sealer = Sealer(KEY)
    first, second = sealer.seal("token-value"), sealer.seal("token-value")
    assert first != second
    assert "token-value" not in first
    assert sealer.unseal(first) == sealer.unseal(second) == "token-value"


def test_another_key_cannot_open_it() -> None:
    sealed = Sealer(KEY).seal("token-value")
    with pytest.raises(UnsealError):
        Sealer(KEY + "-rotated").unseal(sealed)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_damaged_values_are_refused(damage: str) -> None:
    sealer = Sealer(KEY)
    raw = bytearray(base64.urlsafe_b64decode(sealer.seal("token-value")))
    if damage == "flip":
        raw[-1] ^= 1
    elif damage == "truncate":
        raw = raw[:20]
    sealed = "not base64 at all!" if damage == "garbage" else base64.urlsafe_b64encode(raw).decode()
    with pytest.raises(UnsealError):
        sealer.unseal(sealed)
