"""A vendor's lifecycle statuses (no ORM here: request schemas use them too)."""

from __future__ import annotations

from enum import StrEnum


class VendorStatus(StrEnum):
    DRAFT = "draft"
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"
