"""Request and response shapes of the account endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.accounts.roles import Role
from app.fields import SETTING_MARKER, Email, StrictModel


class TokenType(StrEnum):
    """How to present the access token (`Authorization: Bearer <token>`)."""

    BEARER = "bearer"


Password = Field(min_length=1, max_length=1024)
"""A password the account already has (policies change: any length is checked)."""
NewPassword = Field(
    min_length=1,
    max_length=1024,
    json_schema_extra={SETTING_MARKER: "PASSWORD_MIN_LENGTH"},
)
"""A password being set: the service enforces PASSWORD_MIN_LENGTH, and the OpenAPI
document states it as `minLength` (`app.http.docs.document_settings`)."""
OpaqueToken = Field(min_length=16, max_length=256)


class SignupIn(StrictModel):
    email: Email
    password: str = NewPassword
    full_name: str = Field(min_length=1, max_length=200)
    organization_name: str = Field(min_length=1, max_length=200)


class LoginIn(StrictModel):
    email: Email
    password: str = Password
    organization_id: uuid.UUID | None = Field(
        default=None, description="Sign in to this organisation (else the one used last)"
    )


class RefreshIn(StrictModel):
    refresh_token: str = OpaqueToken
    organization_id: uuid.UUID | None = Field(
        default=None, description="Switch to another of your organisations"
    )


class LogoutIn(StrictModel):
    refresh_token: str = OpaqueToken


class PasswordChangeIn(StrictModel):
    current_password: str = Password
    new_password: str = NewPassword


class PasswordResetIn(StrictModel):
    email: Email


class PasswordResetConfirmIn(StrictModel):
    token: str = OpaqueToken
    new_password: str = NewPassword


class VerifyIn(StrictModel):
    """The token from the confirmation email. `release`: the address's owner never
    signed up, and the account that claimed it lets it go."""

    token: str = OpaqueToken
    release: bool = False


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    email_verified: bool
    created_at: datetime


class Person(BaseModel):
    """Someone named in another answer (an inviter, a member)."""

    id: uuid.UUID
    email: str
    full_name: str


class OrganizationOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class MembershipOut(BaseModel):
    organization: OrganizationOut
    role: Role


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: TokenType = TokenType.BEARER
    expires_in: int = Field(description="Seconds the access token lives")
    refresh_expires_in: int = Field(description="Seconds the refresh token lives")


class SignupOut(TokenPair):
    user: UserOut
    organization: OrganizationOut
    role: Role


class SessionOut(TokenPair):
    """A signed-in session: who, where, which other organisations, and the tokens."""

    user: UserOut
    organization: OrganizationOut
    role: Role
    memberships: list[MembershipOut]


class MeOut(BaseModel):
    user: UserOut
    organization: OrganizationOut
    role: Role
    memberships: list[MembershipOut]
    vendor_id: uuid.UUID | None = None


class Accepted(BaseModel):
    message: str
