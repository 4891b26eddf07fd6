"""Sending limits: how much invitation email an organisation may cause, and how much one
address may receive, counted in the database so they hold across workers and hosts.

Counted inside the transaction that creates (or reissues) the invitation: an attempt
that fails for another reason (409) rolls its count back, and one refused here (429)
is not counted either. Defaults are far above what a procurement team sends (a
hundred vendors an hour) and far below what a spam run needs.
"""

from __future__ import annotations

import uuid

from app.errors import Throttled
from app.fields import email_key
from app.runtime import ratelimit
from app.runtime.ratelimit import Limit
from app.settings import Settings

HOUR = 3600
DAY = 24 * HOUR


class SendingLimits:
    def __init__(self, settings: Settings) -> None:
        self._checks = (
            (
                Limit("invitations:org:hour", settings.INVITATIONS_PER_ORG_PER_HOUR, HOUR),
                "Your organisation has sent too many invitations this hour; try again later",
            ),
            (
                Limit("invitations:org:day", settings.INVITATIONS_PER_ORG_PER_DAY, DAY),
                "Your organisation has sent too many invitations today; try again later",
            ),
        )
        self._per_recipient = Limit(
            "emails:recipient:day", settings.EMAILS_PER_RECIPIENT_PER_DAY, DAY
        )

    async def count(self, organization_id: uuid.UUID, recipient: str) -> None:
        """Count one invitation email; Throttled (with the wait) when over a limit.
        Call inside the transaction that queues the email."""
        for limit, message in self._checks:
            wait = await ratelimit.hit(limit, str(organization_id))
            if wait is not None:
                raise Throttled(message, retry_after=wait)
        wait = await ratelimit.hit(self._per_recipient, email_key(recipient))
        if wait is not None:
            raise Throttled(
                "This address has received too many invitations today; try again later",
                retry_after=wait,
            )
