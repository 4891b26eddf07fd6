"""Request and response shapes of the invitation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.accounts.roles import Role, StaffRole
from app.accounts.schemas import Person, SessionOut
from app.fields import Email, QueryModel, StrictModel
from app.invitations.statuses import InvitationKind, InvitationStatus
from app.vendors.schemas import VendorOut

Token = Field(min_length=16, max_length=256)


class InvitationCreate(StrictModel):
    """`email` defaults to the vendor's contact email."""

    multiline = frozenset({"message"})

    email: Email | None = None
    message: str | None = Field(default=None, max_length=2000)


class TeammateInvitationCreate(StrictModel):
    """A person to join the organisation as an owner or a member."""

    multiline = frozenset({"message"})

    email: Email
    role: StaffRole
    message: str | None = Field(default=None, max_length=2000)


class InvitationListQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class InvitationSearchQuery(InvitationListQuery):
    kind: InvitationKind | None = None
    status: InvitationStatus | None = None
    vendor_id: uuid.UUID | None = None


class LookupQuery(QueryModel):
    token: str = Token


class AcceptIn(StrictModel):
    """A new account: `full_name` and `password`. An email that already has an account:
    that account's `password`, or nothing but the token when the request carries that
    account's bearer token."""

    token: str = Token
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class InvitationOut(BaseModel):
    id: uuid.UUID
    kind: InvitationKind
    role: Role
    vendor_id: uuid.UUID | None = Field(
        description="The vendor of a vendor invitation (null for teammates, or once the "
        "vendor was deleted)"
    )
    invited_by: Person | None = Field(description="Who sent it (null if that account is gone)")
    email: str
    message: str | None
    status: InvitationStatus
    expires_at: datetime
    sent_at: datetime | None
    accepted_at: datetime | None
    revoked_at: datetime | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


# Columns read for an invitation's answer (`invited_by` is joined from its user).
INVITATION_COLUMNS = (
    *(name for name in InvitationOut.model_fields if name != "invited_by"),
    "invited_by_id",
    "invited_by__email",
    "invited_by__full_name",
)


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class LookupOut(BaseModel):
    kind: InvitationKind
    organization_name: str
    vendor_name: str | None
    role: Role
    email: str
    invited_by_name: str | None
    expires_at: datetime
    account_exists: bool


class AcceptOut(SessionOut):
    """The session of the account that joined, and the vendor it now speaks for."""

    vendor: VendorOut | None
