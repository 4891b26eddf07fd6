"""Login throttling: failed logins counted per email and per client address.

Each attempt is counted before its password is checked, in one statement that also
decides (`app.runtime.ratelimit`): concurrent attempts on any worker cannot get past
the limit. An attempt that succeeds is taken back; a successful login also forgives
its email's failures (not its address's, which may be shared by an attacker).
"""

from __future__ import annotations

from app.runtime import ratelimit
from app.runtime.ratelimit import Limit
from app.settings import Settings


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        window = settings.LOGIN_WINDOW_SECONDS
        self.by_email = Limit("login:email", settings.LOGIN_MAX_FAILURES_PER_EMAIL, window)
        self.by_address = Limit("login:ip", settings.LOGIN_MAX_FAILURES_PER_IP, window)

    async def attempt(self, email: str, client_ip: str) -> int | None:
        """Count an attempt; seconds to wait if it is one too many, else None."""
        waits = [
            await ratelimit.hit(self.by_email, email),
            await ratelimit.hit(self.by_address, client_ip),
        ]
        over = [wait for wait in waits if wait is not None]
        return max(over) if over else None

    async def succeeded(self, email: str, client_ip: str) -> None:
        await ratelimit.clear(self.by_email, email)
        await ratelimit.forget(self.by_address, client_ip)

    async def failures(self, email: str) -> int:
        """Failed (or pending) attempts counted for `email` in this window."""
        return await ratelimit.count(self.by_email, email)
