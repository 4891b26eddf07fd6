"""Signup, login and "who am I": the account rules, independent of HTTP."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from app.accounts import throttle
from app.accounts.models import Membership, Organization, Role, User
from app.accounts.passwords import Passwords
from app.accounts.principal import Principal
from app.accounts.schemas import LoginIn, SignupIn
from app.accounts.tokens import TokenIssuer
from app.accounts.users import EMAIL_TAKEN, create_user, organization_out, user_out
from app.compat.tortoise_cancel import runs_to_completion
from app.errors import Conflict, NotFound, Throttled, Unauthenticated
from app.settings import Settings

BAD_CREDENTIALS = "Email or password is wrong"


class AccountService:
    """Account rules for one worker; holds its password hasher and token issuer."""

    def __init__(self, settings: Settings, passwords: Passwords, tokens: TokenIssuer) -> None:
        self._settings = settings
        self.passwords = passwords
        self.tokens = tokens

    def token_response(self, principal: Principal) -> dict[str, Any]:
        return {
            "access_token": self.tokens.issue(principal),
            "token_type": "bearer",
            "expires_in": self.tokens.ttl,
        }

    async def signup(self, data: SignupIn) -> dict[str, Any]:
        """User, organisation and owner membership, all or nothing."""
        self.passwords.check_strength(data.password)
        if await User.exists(email=data.email):
            raise Conflict(EMAIL_TAKEN)
        # Hashing stays cancellable: a client that left before it started costs nothing.
        password_hash = await self.passwords.hash(data.password)
        user, organization = await self._create_owner(data, password_hash)
        principal = Principal(user.id, organization.id, Role.OWNER)
        return {
            "user": user_out(user),
            "organization": organization_out(organization),
            **self.token_response(principal),
        }

    @runs_to_completion
    async def _create_owner(self, data: SignupIn, password_hash: str) -> tuple[User, Organization]:
        async with in_transaction():
            user = await create_user(
                email=data.email, full_name=data.full_name, password_hash=password_hash
            )
            organization = await Organization.create(name=data.organization_name)
            await Membership.create(user=user, organization=organization, role=Role.OWNER)
        return user, organization

    async def login(self, data: LoginIn, client_ip: str) -> dict[str, Any]:
        wait = await throttle.retry_after(self._settings, data.email, client_ip)
        if wait is not None:
            raise Throttled("Too many failed logins; try again later", retry_after=wait)
        user = await User.get_or_none(email=data.email)
        ok, new_hash = await self.passwords.verify(
            user.password_hash if user else None, data.password
        )
        if user is None or not ok:
            await throttle.record_failure(self._settings, data.email, client_ip)
            raise Unauthenticated(BAD_CREDENTIALS)
        if new_hash is not None:
            user.password_hash = new_hash
            await user.save(update_fields=["password_hash"])
        await throttle.clear(data.email)
        membership = await Membership.filter(user_id=user.id).order_by("created_at").first()
        if membership is None:  # a user always has one; treat a broken row as bad login
            raise Unauthenticated(BAD_CREDENTIALS)
        principal = Principal(user.id, membership.organization_id, membership.role)
        return self.token_response(principal)

    async def me(self, principal: Principal) -> dict[str, Any]:
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
        }
