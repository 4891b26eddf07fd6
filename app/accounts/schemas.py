"""Request and response shapes of the account endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.accounts.roles import Role
from app.fields import Email, StrictModel

# The minimum length is enforced by the service from settings; 10 is the default.
Password = Field(min_length=1, max_length=1024)


class SignupIn(StrictModel):
    email: Email
    password: str = Password
    full_name: str = Field(min_length=1, max_length=200)
    organization_name: str = Field(min_length=1, max_length=200)


class LoginIn(StrictModel):
    email: Email
    password: str = Password


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    created_at: datetime


class OrganizationOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int


class SignupOut(TokenOut):
    user: UserOut
    organization: OrganizationOut


class MeOut(BaseModel):
    user: UserOut
    organization: OrganizationOut
    role: Role
    vendor_id: uuid.UUID | None = None
