"""Sealing a value (an invitation token) for the outbox, with AES-GCM.

The key is derived from SECRET_KEY, so a database dump alone reveals no usable token.
A row sealed under an older key cannot be opened after a key change: the dispatcher
then fails that email with a clear reason instead of sending a broken link.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"onramp outbox sealing v1"


class UnsealError(Exception):
    pass


class Sealer:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            return self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except (InvalidTag, ValueError) as error:
            raise UnsealError("sealed with another SECRET_KEY or corrupted") from error
