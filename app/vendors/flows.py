"""Every change of a vendor's status, and the rules for each, in one place.

People change a status by hand (suspend, archive, reactivate); invitations move a
vendor along (`draft` -> `invited` -> `active`, back to `draft` when revoked). Every
change is a conditional update, so a concurrent change is never overwritten.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.errors import Conflict
from app.vendors.models import Vendor
from app.vendors.statuses import VendorStatus

# Status changes a person may ask for, from the statuses they may leave.
MANUAL_CHANGES: dict[VendorStatus, frozenset[VendorStatus]] = {
    VendorStatus.SUSPENDED: frozenset(
        {VendorStatus.DRAFT, VendorStatus.INVITED, VendorStatus.ACTIVE}
    ),
    VendorStatus.ARCHIVED: frozenset(
        {VendorStatus.DRAFT, VendorStatus.INVITED, VendorStatus.ACTIVE, VendorStatus.SUSPENDED}
    ),
    VendorStatus.ACTIVE: frozenset({VendorStatus.SUSPENDED}),
}
CLOSED = (VendorStatus.SUSPENDED, VendorStatus.ARCHIVED)


NEVER_ACTIVE = "Only a vendor whose contact accepted an invitation can be active again"


def check_manual_change(current: VendorStatus, wanted: VendorStatus, *, has_contact: bool) -> None:
    """Raise Conflict unless a person may move a vendor from `current` to `wanted`.
    Reactivating restores a vendor that was active: one whose contact has joined
    (a draft suspended and "reactivated" would be active without ever being invited)."""
    if wanted != current and current not in MANUAL_CHANGES.get(wanted, frozenset()):
        raise Conflict(f"A {current} vendor cannot be set to {wanted} by hand")
    if wanted == VendorStatus.ACTIVE and current != wanted and not has_contact:
        raise Conflict(NEVER_ACTIVE)


async def invited(vendor_id: uuid.UUID) -> None:
    """An invitation went out: a draft vendor is now invited."""
    await Vendor.filter(id=vendor_id, status=VendorStatus.DRAFT).update(
        status=VendorStatus.INVITED, updated_at=datetime.now(UTC)
    )


async def uninvited(vendor_id: uuid.UUID) -> None:
    """Its open invitation was revoked: an invited vendor is a draft again."""
    await Vendor.filter(id=vendor_id, status=VendorStatus.INVITED).update(
        status=VendorStatus.DRAFT, updated_at=datetime.now(UTC)
    )


async def activated(vendor_id: uuid.UUID, contact_user_id: uuid.UUID) -> None:
    """Its contact accepted: the vendor is active and linked to the contact's account.
    A suspended or archived vendor keeps its status."""
    now = datetime.now(UTC)
    await Vendor.filter(id=vendor_id).update(contact_user_id=contact_user_id, updated_at=now)
    await (
        Vendor.filter(id=vendor_id)
        .exclude(status__in=CLOSED)
        .update(status=VendorStatus.ACTIVE, updated_at=now)
    )
