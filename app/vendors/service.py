"""Vendor rules. Every query starts from `scoped()` (or, for the two hot reads in
`queries`, from the organisation id): the caller's organisation only.

That is the tenant-isolation rule: an object of another organisation is simply not
found (404), never "forbidden" (403), which would confirm that it exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from app.accounts.tokens import Principal
from app.http.errors import Conflict, NotFound
from app.pagination import decode_cursor, page
from app.vendors import queries
from app.vendors.models import Vendor, VendorStatus
from app.vendors.schemas import PROFILE_FIELDS, VENDOR_FIELDS, VendorCreate, VendorListQuery

_DUPLICATE = "A vendor with this contact email already exists in your organisation"
# Status changes a client may ask for, from the statuses it may leave.
_MANUAL_STATUS_CHANGES: dict[VendorStatus, frozenset[VendorStatus]] = {
    VendorStatus.SUSPENDED: frozenset(
        {VendorStatus.DRAFT, VendorStatus.INVITED, VendorStatus.ACTIVE}
    ),
    VendorStatus.ARCHIVED: frozenset(
        {VendorStatus.DRAFT, VendorStatus.INVITED, VendorStatus.ACTIVE, VendorStatus.SUSPENDED}
    ),
    VendorStatus.ACTIVE: frozenset({VendorStatus.SUSPENDED}),
}


def scoped(principal: Principal) -> QuerySet[Vendor]:
    """The only way into the vendors table: the caller's organisation's rows."""
    return Vendor.filter(organization_id=principal.organization_id)


async def list_vendors(principal: Principal, query: VendorListQuery) -> dict[str, Any]:
    after = decode_cursor(query.cursor) if query.cursor else None
    rows = await queries.page_rows(
        principal.organization_id,
        limit=query.limit + 1,
        status=query.status,
        search=query.q,
        after=after,
    )
    return page(rows, query.limit)


async def get_vendor(principal: Principal, vendor_id: uuid.UUID) -> dict[str, Any]:
    row = await queries.one_row(principal.organization_id, vendor_id)
    if row is None:
        raise NotFound("Vendor not found")
    return row


async def create_vendor(principal: Principal, data: VendorCreate) -> dict[str, Any]:
    try:
        vendor = await Vendor.create(organization_id=principal.organization_id, **data.model_dump())
    except IntegrityError:
        raise Conflict(_DUPLICATE) from None
    return vendor_out(vendor)


async def update_vendor(
    principal: Principal, vendor_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    vendor = await scoped(principal).get_or_none(id=vendor_id)
    if vendor is None:
        raise NotFound("Vendor not found")
    status = changes.get("status")
    if status is not None and status != vendor.status:
        allowed_from = _MANUAL_STATUS_CHANGES.get(status, frozenset())
        if vendor.status not in allowed_from:
            raise Conflict(f"A {vendor.status} vendor cannot be set to {status} by hand")
    for field, value in changes.items():
        setattr(vendor, field, value)
    try:
        await vendor.save()
    except IntegrityError:
        raise Conflict(_DUPLICATE) from None
    return vendor_out(vendor)


async def delete_vendor(principal: Principal, vendor_id: uuid.UUID) -> None:
    deleted = await scoped(principal).filter(id=vendor_id).delete()
    if not deleted:
        raise NotFound("Vendor not found")


def vendor_out(vendor: Vendor) -> dict[str, Any]:
    return {field: getattr(vendor, field) for field in VENDOR_FIELDS}


def _own_vendor(principal: Principal) -> QuerySet[Vendor]:
    """A vendor contact's own vendor, and nothing else."""
    return scoped(principal).filter(id=principal.vendor_id)


async def get_profile(principal: Principal) -> dict[str, Any]:
    row = await _own_vendor(principal).first().values(*PROFILE_FIELDS)
    if row is None:
        raise NotFound("Vendor not found")
    return row


async def update_profile(principal: Principal, changes: dict[str, Any]) -> dict[str, Any]:
    vendor = await _own_vendor(principal).first()
    if vendor is None:
        raise NotFound("Vendor not found")
    for field, value in changes.items():
        setattr(vendor, field, value)
    await vendor.save()
    return {field: getattr(vendor, field) for field in PROFILE_FIELDS}
