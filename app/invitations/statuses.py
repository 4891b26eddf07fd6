"""An invitation's kinds and statuses (no ORM here: request schemas use them too)."""

from __future__ import annotations

from enum import StrEnum


class InvitationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"
    FAILED = "failed"


OPEN_STATUSES = (InvitationStatus.PENDING, InvitationStatus.SENT)


class InvitationKind(StrEnum):
    VENDOR = "vendor"
    """The contact of a vendor joins with the vendor role."""
    TEAMMATE = "teammate"
    """A person joins the organisation as owner or member."""
