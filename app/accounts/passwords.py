"""Password hashing with argon2id, off the event loop.

Unknown accounts are verified against a dummy hash, so a login for an address that
does not exist costs the same as a wrong password and timing reveals nothing.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.errors import Invalid
from app.runtime.executor import BlockingExecutor
from app.settings import Settings


class Passwords:
    def __init__(self, settings: Settings, executor: BlockingExecutor) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.ARGON2_TIME_COST,
            memory_cost=settings.ARGON2_MEMORY_COST,
            parallelism=settings.ARGON2_PARALLELISM,
        )
        self._executor = executor
        self._min_length = settings.PASSWORD_MIN_LENGTH
        self._dummy_hash: str | None = None

    def check_strength(self, password: str, field: str = "password") -> None:
        """The rule a new password must meet (the schema documents the same minimum)."""
        if len(password) < self._min_length:
            raise Invalid.field(
                field, f"at least {self._min_length} characters", "string_too_short"
            )

    def ensure_room(self) -> None:
        """Refuse now (`Overloaded`, 503) when no hash could start now: see
        `BlockingExecutor.ensure_room`."""
        self._executor.ensure_room()

    async def hash(self, password: str) -> str:
        return await self._executor.run(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> tuple[bool, str | None]:
        """Whether `password` matches, and a new hash when the stored one is outdated.

        `stored_hash=None` (no such account) does the same work and answers False.
        """
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("dummy password for unknown accounts")
            await self._executor.run(self._check, self._dummy_hash, password)
            return False, None
        if not await self._executor.run(self._check, stored_hash, password):
            return False, None
        if self._hasher.check_needs_rehash(stored_hash):
            return True, await self.hash(password)
        return True, None

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
