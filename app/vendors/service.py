"""Vendor rules. Every query starts from `scoped()` (or, for the two hot reads in
`queries`, from the organisation id): the caller's organisation only.

That is the tenant-isolation rule: an object of another organisation is simply not
found (404), never "forbidden" (403), which would confirm that it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.accounts.principal import Principal
from app.compat.tortoise_cancel import runs_to_completion
from app.errors import Conflict, NotFound
from app.pagination import decode_cursor, page
from app.vendors import flows, queries
from app.vendors.models import Vendor
from app.vendors.schemas import PROFILE_FIELDS, VENDOR_FIELDS, VendorCreate, VendorListQuery

_DUPLICATE = "A vendor with this contact email already exists in your organisation"

VendorHook = Callable[[Vendor], Awaitable[None]]
"""Called inside the transaction that deletes a vendor (invitations cancel theirs)."""


def scoped(principal: Principal) -> QuerySet[Vendor]:
    """The only way into the vendors table: the caller's organisation's rows."""
    return Vendor.filter(organization_id=principal.organization_id)


def vendor_out(vendor: Vendor) -> dict[str, Any]:
    return {field: getattr(vendor, field) for field in VENDOR_FIELDS}


class VendorService:
    """An organisation's vendors, and a vendor contact's own profile."""

    def __init__(self) -> None:
        self._before_delete: list[VendorHook] = []

    def on_delete(self, hook: VendorHook) -> None:
        """Run `hook` in the deleting transaction (the invitations area registers one)."""
        self._before_delete.append(hook)

    async def list(self, principal: Principal, query: VendorListQuery) -> dict[str, Any]:
        after = decode_cursor(query.cursor) if query.cursor else None
        rows = await queries.page_rows(
            principal.organization_id,
            limit=query.limit + 1,
            status=query.status,
            search=query.q,
            after=after,
        )
        return page(rows, query.limit)

    async def get(self, principal: Principal, vendor_id: uuid.UUID) -> dict[str, Any]:
        row = await queries.one_row(principal.organization_id, vendor_id)
        if row is None:
            raise NotFound("Vendor not found")
        return row

    async def create(self, principal: Principal, data: VendorCreate) -> dict[str, Any]:
        try:
            vendor = await Vendor.create(
                organization_id=principal.organization_id, **data.model_dump()
            )
        except IntegrityError:
            raise Conflict(_DUPLICATE) from None
        return vendor_out(vendor)

    async def update(
        self, principal: Principal, vendor_id: uuid.UUID, changes: dict[str, Any]
    ) -> dict[str, Any]:
        vendor = await scoped(principal).get_or_none(id=vendor_id)
        if vendor is None:
            raise NotFound("Vendor not found")
        status = changes.get("status")
        if status is not None:
            flows.check_manual_change(vendor.status, status)
        for field, value in changes.items():
            setattr(vendor, field, value)
        try:
            await vendor.save()
        except IntegrityError:
            raise Conflict(_DUPLICATE) from None
        return vendor_out(vendor)

    @runs_to_completion
    async def delete(self, principal: Principal, vendor_id: uuid.UUID) -> None:
        async with in_transaction():
            vendor = await scoped(principal).select_for_update().get_or_none(id=vendor_id)
            if vendor is None:
                raise NotFound("Vendor not found")
            for hook in self._before_delete:
                await hook(vendor)
            await vendor.delete()

    async def contact_vendor_id(self, principal: Principal) -> uuid.UUID | None:
        """The vendor whose contact the caller is in this organisation, if any."""
        found = await scoped(principal).filter(contact_user_id=principal.user_id).first()
        return found.id if found is not None else None

    def _own_vendor(self, principal: Principal) -> QuerySet[Vendor]:
        """A vendor contact's own vendor, and nothing else."""
        return scoped(principal).filter(contact_user_id=principal.user_id)

    async def get_profile(self, principal: Principal) -> dict[str, Any]:
        row = await self._own_vendor(principal).first().values(*PROFILE_FIELDS)
        if row is None:
            raise NotFound("Vendor not found")
        return row

    async def update_profile(self, principal: Principal, changes: dict[str, Any]) -> dict[str, Any]:
        vendor = await self._own_vendor(principal).first()
        if vendor is None:
            raise NotFound("Vendor not found")
        for field, value in changes.items():
            setattr(vendor, field, value)
        await vendor.save()
        return {field: getattr(vendor, field) for field in PROFILE_FIELDS}
