"""The roles a membership can have (no ORM here: the HTTP layer checks them per request)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    VENDOR = "vendor"


class StaffRole(StrEnum):
    """The roles an organisation gives its own people (a vendor contact's role comes
    with the vendor). One named schema for every request that sets one."""

    OWNER = "owner"
    MEMBER = "member"


ORG_STAFF = frozenset({Role.OWNER, Role.MEMBER})
OWNERS = frozenset({Role.OWNER})
ANY_ROLE = frozenset(Role)
