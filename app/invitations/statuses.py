"""An invitation's statuses (no ORM here: request schemas use them too)."""

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
