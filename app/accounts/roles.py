"""The roles a membership can have (no ORM here: the HTTP layer checks them per request)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    VENDOR = "vendor"


ORG_STAFF = frozenset({Role.OWNER, Role.MEMBER})
ANY_ROLE = frozenset(Role)
