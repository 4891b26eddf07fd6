"""Request and response shapes of the invitation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.schemas import OrganizationOut, TokenOut, UserOut
from app.fields import Email, StrictModel
from app.invitations.statuses import InvitationStatus
from app.vendors.schemas import VendorOut

Token = Field(min_length=16, max_length=256)


class InvitationCreate(StrictModel):
    """`email` defaults to the vendor's contact email."""

    email: Email | None = None
    message: str | None = Field(default=None, max_length=2000)


class InvitationListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class LookupQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    token: str = Token


class AcceptIn(StrictModel):
    token: str = Token
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class InvitationOut(BaseModel):
    id: uuid.UUID
    vendor_id: uuid.UUID
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


INVITATION_FIELDS = tuple(InvitationOut.model_fields)


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class LookupOut(BaseModel):
    organization_name: str
    vendor_name: str
    email: str
    expires_at: datetime


class AcceptOut(TokenOut):
    user: UserOut
    organization: OrganizationOut
    vendor: VendorOut
