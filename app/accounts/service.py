"""Signup, login and "who am I": the account rules, independent of HTTP."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.accounts import throttle
from app.accounts.models import Membership, Organization, Role, User
from app.accounts.passwords import Passwords
from app.accounts.schemas import LoginIn, SignupIn
from app.accounts.tokens import Principal, TokenIssuer
from app.http.errors import Conflict, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from app.lifecycle.db import runs_to_completion
from app.settings import Settings

_BAD_CREDENTIALS = "Email or password is wrong"


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "created_at": user.created_at,
    }


def organization_out(organization: Organization) -> dict[str, Any]:
    return {"id": organization.id, "name": organization.name, "created_at": organization.created_at}


class Accounts:
    """Account rules for one worker; holds its password hasher and token issuer."""

    def __init__(self, settings: Settings, passwords: Passwords, tokens: TokenIssuer) -> None:
        self._settings = settings
        self._passwords = passwords
        self._tokens = tokens

    def check_password_strength(self, password: str) -> None:
        if len(password) < self._settings.PASSWORD_MIN_LENGTH:
            raise ValidationFailed(
                details=[
                    {
                        "field": "password",
                        "message": f"at least {self._settings.PASSWORD_MIN_LENGTH} characters",
                        "type": "string_too_short",
                    }
                ]
            )

    async def hash_password(self, password: str) -> str:
        return await self._passwords.hash(password)

    def token_response(self, principal: Principal) -> dict[str, Any]:
        return {
            "access_token": self._tokens.issue(principal),
            "token_type": "bearer",
            "expires_in": self._tokens.ttl,
        }

    @runs_to_completion
    async def signup(self, data: SignupIn) -> dict[str, Any]:
        """User, organisation and owner membership, all or nothing."""
        self.check_password_strength(data.password)
        if await User.exists(email=data.email):
            raise Conflict("An account with this email already exists")
        password_hash = await self._passwords.hash(data.password)
        try:
            async with in_transaction():
                user = await User.create(
                    email=data.email, full_name=data.full_name, password_hash=password_hash
                )
                organization = await Organization.create(name=data.organization_name)
                await Membership.create(user=user, organization=organization, role=Role.OWNER)
        except IntegrityError:  # a concurrent signup with the same email won the race
            raise Conflict("An account with this email already exists") from None
        principal = Principal(user.id, organization.id, Role.OWNER)
        return {
            "user": user_out(user),
            "organization": organization_out(organization),
            **self.token_response(principal),
        }

    async def login(self, data: LoginIn, client_ip: str) -> dict[str, Any]:
        wait = await throttle.retry_after(self._settings, data.email, client_ip)
        if wait is not None:
            raise TooManyRequests(
                "Too many failed logins; try again later", headers={"Retry-After": str(wait)}
            )
        user = await User.get_or_none(email=data.email)
        ok, new_hash = await self._passwords.verify(
            user.password_hash if user else None, data.password
        )
        if user is None or not ok:
            await throttle.record_failure(self._settings, data.email, client_ip)
            raise Unauthorized(_BAD_CREDENTIALS)
        if new_hash is not None:
            user.password_hash = new_hash
            await user.save(update_fields=["password_hash"])
        await throttle.clear(data.email)
        membership = await Membership.filter(user_id=user.id).order_by("created_at").first()
        if membership is None:  # a user always has one; treat a broken row as bad login
            raise Unauthorized(_BAD_CREDENTIALS)
        principal = Principal(
            user.id, membership.organization_id, membership.role, membership.vendor_id
        )
        return self.token_response(principal)


async def me(principal: Principal) -> dict[str, Any]:
    membership = (
        await Membership.filter(
            user_id=principal.user_id, organization_id=principal.organization_id
        )
        .select_related("user", "organization")
        .first()
    )
    if membership is None:  # deleted since the token was issued
        raise NotFound("This account no longer exists")
    return {
        "user": user_out(membership.user),
        "organization": organization_out(membership.organization),
        "role": membership.role,
        "vendor_id": membership.vendor_id,
    }
