"""Kinds of email, and what the outbox needs from the area that owns each kind.

The outbox and its dispatcher are generic: an area (invitations, accounts) registers a
`MailKind` that renders its emails and hears how each delivery ended, in the same
transaction that records it. Nothing in `app.mail` knows what an invitation is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Content:
    """What an email says: the subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Delivery:
    """One queued email, as its kind sees it when rendering or hearing back."""

    email_id: int
    ref_id: uuid.UUID | None
    ref_version: str | None
    to_address: str
    context: dict[str, Any]
    attempts: int


class Cancel(Exception):
    """Raised by `MailKind.prepare`: this email is not to be sent (`reason` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailKind:
    """The owner of one kind of email. `prepare` runs just before sending, in its own
    transaction; the outcome hooks run inside the outbox's transaction, `lock` first,
    so every writer of the owner's row takes locks in the same order."""

    name: str = ""

    async def prepare(self, delivery: Delivery, sealed_secret: str | None) -> str | None:
        """The secret for the email's link: by default the one sealed when it was queued.

        A kind may instead make it now (a password reset creates its token at send time,
        so that asking for a reset costs the same whether or not the account exists),
        or raise `Cancel`."""
        return sealed_secret

    def render(self, delivery: Delivery, secret: str | None) -> Content:
        raise NotImplementedError

    async def lock(self, delivery: Delivery) -> None:
        """Lock the owner's row before the outbox row changes (PostgreSQL lock order)."""

    async def sent(self, delivery: Delivery, at: datetime) -> None:
        """The email went out."""

    async def failed(self, delivery: Delivery, reason: str) -> None:
        """Delivery was given up; `reason` is our wording, fit to show a customer."""


class MailKinds:
    """The registered kinds, by name."""

    def __init__(self, *kinds: MailKind) -> None:
        self._kinds = {kind.name: kind for kind in kinds}

    def get(self, name: str) -> MailKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)


def page_link(public_base_url: str, page: str, token: str) -> str:
    """The link in an email to one of our pages (`/invite`, `/reset`, `/verify`)."""
    return f"{public_base_url.rstrip('/')}/{page}?token={quote(token, safe='')}"
