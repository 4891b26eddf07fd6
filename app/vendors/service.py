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

from app.accounts.models import Membership
from app.accounts.principal import Principal
from app.accounts.roles import Role
from app.accounts.sessions import Sessions
from app.audit.actions import Action, TargetType
from app.audit.log import changes_between, created, record
from app.errors import Conflict, Forbidden, NotFound
from app.pagination import decode_cursor, page
from app.runtime.db import unit_of_work
from app.vendors import flows, queries
from app.vendors.models import Vendor
from app.vendors.schemas import PROFILE_FIELDS, VENDOR_FIELDS, VendorCreate, VendorListQuery

_DUPLICATE = "A vendor with this contact email already exists in your organisation"

VendorHook = Callable[[Vendor, uuid.UUID | None], Awaitable[None]]
"""Called with the vendor and the actor inside the transaction that deletes, suspends
or archives a vendor (the invitations area revokes its open invitations)."""


def scoped(principal: Principal) -> QuerySet[Vendor]:
    """The only way into the vendors table: the caller's organisation's rows."""
    return Vendor.filter(organization_id=principal.organization_id)


def vendor_out(vendor: Vendor) -> dict[str, Any]:
    return {field: getattr(vendor, field) for field in VENDOR_FIELDS}


async def _save_changes(
    vendor: Vendor,
    changes: dict[str, Any],
    fields: tuple[str, ...],
    action: Action,
    principal: Principal,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply `changes`, save, and record what really changed (inside the caller's
    transaction). Returns `fields` before and after."""
    before = {field: getattr(vendor, field) for field in fields}
    for field, value in changes.items():
        setattr(vendor, field, value)
    await vendor.save()
    after = {field: getattr(vendor, field) for field in fields}
    difference = changes_between(before, after, changes)
    if difference:
        await record(
            action,
            organization_id=principal.organization_id,
            target_type=TargetType.VENDOR,
            target_id=vendor.id,
            actor_id=principal.user_id,
            changes=difference,
        )
    return before, after


class VendorService:
    """An organisation's vendors, and a vendor contact's own profile."""

    def __init__(self) -> None:
        self._on_close: list[VendorHook] = []

    def on_close(self, hook: VendorHook) -> None:
        """Run `hook` in the transaction that deletes, suspends or archives a vendor."""
        self._on_close.append(hook)

    async def _closing(self, vendor: Vendor, actor_id: uuid.UUID) -> None:
        """The vendor stops being one the organisation works with: open invitations
        end (hooks) and its contact's sessions in the organisation are revoked."""
        for hook in self._on_close:
            await hook(vendor, actor_id)
        if vendor.contact_user_id is not None:
            await Sessions.revoke_membership(vendor.contact_user_id, vendor.organization_id)

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
        rows = await queries.rows_by_id(principal.organization_id, vendor_id)
        if not rows:
            raise NotFound("Vendor not found")
        return rows[0]

    @unit_of_work
    async def create(self, principal: Principal, data: VendorCreate) -> dict[str, Any]:
        try:
            vendor = await Vendor.create(
                organization_id=principal.organization_id, **data.model_dump()
            )
            out = vendor_out(vendor)
            await record(
                Action.VENDOR_CREATED,
                organization_id=principal.organization_id,
                target_type=TargetType.VENDOR,
                target_id=vendor.id,
                actor_id=principal.user_id,
                changes=created({k: out[k] for k in (*data.model_dump(), "status")}),
            )
        except IntegrityError:
            raise Conflict(_DUPLICATE) from None
        return out

    @unit_of_work
    async def update(
        self, principal: Principal, vendor_id: uuid.UUID, changes: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            vendor = await scoped(principal).select_for_update().get_or_none(id=vendor_id)
            if vendor is None:
                raise NotFound("Vendor not found")
            status = changes.get("status")
            if status is not None:
                flows.check_manual_change(
                    vendor.status, status, has_contact=vendor.contact_user_id is not None
                )
            before, after = await _save_changes(
                vendor, changes, VENDOR_FIELDS, Action.VENDOR_UPDATED, principal
            )
            if status in flows.CLOSED and before["status"] != status:
                await self._closing(vendor, principal.user_id)
        except IntegrityError:
            raise Conflict(_DUPLICATE) from None
        return after

    @unit_of_work
    async def delete(self, principal: Principal, vendor_id: uuid.UUID) -> None:
        vendor = await scoped(principal).select_for_update().get_or_none(id=vendor_id)
        if vendor is None:
            raise NotFound("Vendor not found")
        await self._closing(vendor, principal.user_id)
        if vendor.contact_user_id is not None:  # the address can be invited again
            await Membership.filter(
                organization_id=vendor.organization_id,
                user_id=vendor.contact_user_id,
                role=Role.VENDOR,
            ).delete()
        await vendor.delete()
        await record(
            Action.VENDOR_DELETED,
            organization_id=principal.organization_id,
            target_type=TargetType.VENDOR,
            target_id=vendor_id,
            actor_id=principal.user_id,
            changes={"name": [vendor.name, None], "status": [vendor.status.value, None]},
        )

    async def membership_block(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, role: Role
    ) -> str | None:
        """The sessions' gate: a suspended or archived vendor's contact is shut out."""
        if role is not Role.VENDOR:
            return None
        row = await (
            Vendor.filter(organization_id=organization_id, contact_user_id=user_id)
            .first()
            .values("status")
        )
        status = row["status"] if row else None
        if status in flows.CLOSED:
            return f"This vendor is {status}: its contact cannot sign in to it"
        return None

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

    @unit_of_work
    async def update_profile(self, principal: Principal, changes: dict[str, Any]) -> dict[str, Any]:
        vendor = await self._own_vendor(principal).select_for_update().first()
        if vendor is None:
            raise NotFound("Vendor not found")
        if vendor.status in flows.CLOSED:
            raise Forbidden(f"This vendor is {vendor.status}: its profile cannot be changed")
        _, after = await _save_changes(
            vendor, changes, PROFILE_FIELDS, Action.VENDOR_PROFILE_UPDATED, principal
        )
        return after
