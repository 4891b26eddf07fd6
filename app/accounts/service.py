"""Accounts: signup, sessions (login, refresh, logout), "who am I", passwords.

The rules, independent of HTTP. Password hashing stays outside the shielded units of
database work, so a client that left before its hash started costs nothing more.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.accounts import verification
from app.accounts.models import Membership, Organization, User
from app.accounts.passwords import Passwords
from app.accounts.principal import Principal
from app.accounts.recovery import KIND as RESET_KIND
from app.accounts.recovery import usable_reset_token, use_reset_token
from app.accounts.roles import Role
from app.accounts.schemas import (
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    RefreshIn,
    SignupIn,
)
from app.accounts.sessions import NOT_A_MEMBER, Sessions
from app.accounts.throttle import LoginThrottle
from app.accounts.users import EMAIL_TAKEN, create_user, organization_out, user_out
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.errors import Conflict, Forbidden, NotFound, Throttled, Unauthenticated
from app.fields import email_key
from app.mail import outbox
from app.mail.outbox import Outbox
from app.runtime import origin, ratelimit
from app.runtime.db import unit_of_work
from app.runtime.ratelimit import Limit
from app.settings import Settings

SIGNUP_WINDOW = 3600
VERIFY_RESENDS = Limit("verify:resend", 5, 3600)  # per account per hour
AWAITING_CONFIRMATION = (
    "An account with this address is waiting for confirmation: the email sent to the "
    "address lets its owner confirm it, or release it if they never signed up"
)
ALREADY_VERIFIED = "This address is already confirmed"
SIGNUP_OFF = (
    "Signing up is switched off on this server; ask an owner of your organisation to invite you"
)
BAD_CREDENTIALS = "Email or password is wrong"
WRONG_PASSWORD = "The current password is wrong"  # noqa: S105 (a message)
RESET_ACCEPTED = (
    "If an account exists for this address, an email with a link to choose a new "
    "password is on its way."
)


def memberships_out(memberships: list[Membership]) -> list[dict[str, Any]]:
    """The user's organisations, the one used last first."""
    ordered = sorted(
        memberships,
        key=lambda m: (m.last_used_at is None, -(m.last_used_at or m.created_at).timestamp()),
    )
    return [{"organization": organization_out(m.organization), "role": m.role} for m in ordered]


class AccountService:
    """Account rules for one worker: its password hasher, sessions, throttles, outbox."""

    def __init__(
        self, settings: Settings, passwords: Passwords, sessions: Sessions, outbox: Outbox
    ) -> None:
        self.passwords = passwords
        self.sessions = sessions
        self._outbox = outbox
        self._throttle = LoginThrottle(settings)
        window = settings.PASSWORD_RESET_WINDOW
        self._reset_by_email = Limit("reset:email", settings.PASSWORD_RESET_MAX_PER_EMAIL, window)
        self._reset_by_address = Limit("reset:ip", settings.PASSWORD_RESET_MAX_PER_IP, window)
        self._signups_by_address = Limit("signup:ip", settings.SIGNUP_MAX_PER_IP, SIGNUP_WINDOW)
        self._signup_enabled = settings.SIGNUP_ENABLED

    # --- signup and sessions -------------------------------------------------------

    async def signup(self, data: SignupIn, client_ip: str) -> dict[str, Any]:
        """User, organisation, owner membership and a session, all or nothing. Signups
        are counted per client address before any hashing (each costs a hash)."""
        if not self._signup_enabled:
            raise Forbidden(SIGNUP_OFF)
        self.passwords.check_strength(data.password)
        self.passwords.ensure_room()  # a flood is refused before the database work
        wait = await ratelimit.hit(self._signups_by_address, client_ip)
        if wait is not None:
            raise Throttled("Too many signups from your address; try again later", retry_after=wait)
        holder = await User.get_or_none(email_key=email_key(data.email))
        if holder is not None:
            raise Conflict(
                AWAITING_CONFIRMATION if holder.email_verified_at is None else EMAIL_TAKEN
            )
        password_hash = await self.passwords.hash(data.password)
        created = await self._create_owner(data, password_hash, confirmed=False)
        self._outbox.wake()
        return created

    async def requeue_failed_emails(self, since: datetime | None = None) -> int:
        """Confirmation and password-reset emails that were given up go out again (an
        operator, once the mail server is fixed). Their tokens are made when sent, so the
        failed rows themselves are retried."""
        requeued = await outbox.requeue_failed({verification.KIND, RESET_KIND}, since)
        if requeued:
            self._outbox.wake()
        return requeued

    async def create_owner(self, data: SignupIn) -> dict[str, Any]:
        """An operator's signup (`python -m app create-owner`), for a server whose public
        signup is off: not throttled, and the address counts as confirmed (the operator
        vouches for it), so no confirmation email goes out."""
        self.passwords.check_strength(data.password)
        if await User.exists(email_key=email_key(data.email)):
            raise Conflict(EMAIL_TAKEN)
        password_hash = await self.passwords.hash(data.password)
        return await self._create_owner(data, password_hash, confirmed=True)

    @unit_of_work
    async def _create_owner(
        self, data: SignupIn, password_hash: str, *, confirmed: bool
    ) -> dict[str, Any]:
        user = await create_user(
            email=data.email, full_name=data.full_name, password_hash=password_hash
        )
        if confirmed:
            user.email_verified_at = datetime.now(UTC)
            await user.save(update_fields=["email_verified_at"])
        organization = await Organization.create(name=data.organization_name)
        await Membership.create(user=user, organization=organization, role=Role.OWNER)
        await record(
            Action.USER_SIGNED_UP,
            organization_id=organization.id,
            target_type=TargetType.USER,
            target_id=user.id,
            actor_id=None if confirmed else user.id,  # (an operator: the job names it)
            changes={
                "email": [None, user.email],
                "full_name": [None, user.full_name],
                "organization_name": [None, organization.name],
            },
        )
        if not confirmed:
            await self._queue_verification(user, organization.name)
        tokens = await self.sessions.open(Principal(user.id, organization.id, Role.OWNER))
        return {
            "user": user_out(user),
            "organization": organization_out(organization),
            "role": Role.OWNER,
            **tokens,
        }

    async def _queue_verification(self, user: User, organization_name: str) -> None:
        """The confirmation email (inside the caller's transaction)."""
        await self._outbox.enqueue(
            kind=verification.KIND,
            to_address=user.email,
            context={"full_name": user.full_name, "organization_name": organization_name},
            ref_id=user.id,
        )

    # --- address verification ------------------------------------------------------

    async def resend_verification(self, principal: Principal) -> None:
        """A new confirmation email for the caller's address (limited per hour)."""
        user = await User.get_or_none(id=principal.user_id)
        if user is None:
            raise NotFound("This account no longer exists")
        if user.email_verified_at is not None:
            raise Conflict(ALREADY_VERIFIED)
        wait = await ratelimit.hit(VERIFY_RESENDS, str(user.id))
        if wait is not None:
            raise Throttled("Too many confirmation emails; try again later", retry_after=wait)
        organization = await Organization.get(id=principal.organization_id)
        await self._queue_verification(user, organization.name)
        self._outbox.wake()

    @staticmethod
    async def pending_verification(token: str) -> dict[str, Any]:
        """Who a usable confirmation link is for (the page shows it), or Gone."""
        user = await verification.pending_account(token)
        return user_out(user)

    @unit_of_work
    async def verify(self, token: str) -> None:
        """The mailbox's owner confirms the address: the account keeps it for good."""
        user = await verification.spend(token)
        await verification.confirmed(user)

    @unit_of_work
    async def release_address(self, token: str) -> None:
        """The mailbox's owner never signed up: the unverified account lets go of it."""
        user = await verification.spend(token)
        await verification.released(user, actor_id=None)

    async def check_credentials(self, email: str, password: str, client_ip: str) -> User:
        """The account for `email` if `password` is its password. Every attempt counts
        toward login throttling before the password is checked; a success is taken back."""
        email = email_key(email)  # one account, and one throttle, for every spelling
        self.passwords.ensure_room()  # a flood is refused before the database work
        wait = await self._throttle.attempt(email, client_ip)
        if wait is not None:
            raise Throttled("Too many failed sign-ins; try again later", retry_after=wait)
        user = await User.get_or_none(email_key=email)
        ok, new_hash = await self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok:
            if user is not None:  # an unknown address has no one to record it against
                await record(
                    Action.USER_LOGIN_FAILED,
                    organization_id=None,
                    target_type=TargetType.USER,
                    target_id=user.id,
                )
            raise Unauthenticated(BAD_CREDENTIALS)
        await self._throttle.succeeded(email, client_ip)
        if new_hash is not None:
            user.password_hash = new_hash
            await user.save(update_fields=["password_hash"])
        return user

    async def login_failures(self, email: str) -> int:
        return await self._throttle.failures(email_key(email))

    async def login(self, data: LoginIn, client_ip: str) -> dict[str, Any]:
        user = await self.check_credentials(data.email, data.password, client_ip)
        memberships = await Membership.filter(user_id=user.id).prefetch_related("organization")
        if not memberships:  # every account has one; a broken row is a failed login
            raise Unauthenticated(BAD_CREDENTIALS)
        if data.organization_id is not None:
            wanted = [m for m in memberships if m.organization_id == data.organization_id]
            if not wanted:
                raise Forbidden(NOT_A_MEMBER)
        else:  # the one used last that may be used now
            by_last_use = {
                m["organization"]["id"]: i for i, m in enumerate(memberships_out(memberships))
            }
            wanted = sorted(memberships, key=lambda m: by_last_use[m.organization_id])
        refusal = NOT_A_MEMBER
        for membership in wanted:
            reason = await self.sessions.gate(user.id, membership.organization_id, membership.role)
            if reason is None:
                break
            refusal = reason
        else:
            raise Forbidden(refusal)
        chosen = membership.organization_id
        tokens = await self._open_session(Principal(user.id, chosen, membership.role))
        return await self.session_answer(user.id, chosen, tokens)

    @unit_of_work
    async def _open_session(self, principal: Principal) -> dict[str, Any]:
        await record(
            Action.USER_LOGIN_SUCCEEDED,
            organization_id=principal.organization_id,
            target_type=TargetType.USER,
            target_id=principal.user_id,
            actor_id=principal.user_id,
        )
        return await self.sessions.open(principal)

    async def refresh(self, data: RefreshIn) -> dict[str, Any]:
        refreshed = await self.sessions.refresh(data.refresh_token, data.organization_id)
        principal = refreshed.principal
        return await self.session_answer(
            principal.user_id, principal.organization_id, refreshed.tokens
        )

    async def logout(self, refresh_token: str) -> None:
        await self.sessions.close(refresh_token)

    async def session_answer(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, tokens: dict[str, Any]
    ) -> dict[str, Any]:
        """A session's answer: who, where, in which role, the other organisations, tokens."""
        me = await self._me(user_id, organization_id)
        return {**me, **tokens}

    async def me(self, principal: Principal) -> dict[str, Any]:
        return await self._me(principal.user_id, principal.organization_id)

    async def _me(self, user_id: uuid.UUID, organization_id: uuid.UUID) -> dict[str, Any]:
        memberships = await Membership.filter(user_id=user_id).prefetch_related(
            "organization", "user"
        )
        current = next((m for m in memberships if m.organization_id == organization_id), None)
        if current is None:  # removed (or deleted) since the token was issued
            raise NotFound("This account is not a member of that organisation any more")
        return {
            "user": user_out(current.user),
            "organization": organization_out(current.organization),
            "role": current.role,
            "memberships": memberships_out(memberships),
        }

    # --- passwords -----------------------------------------------------------------

    async def change_password(
        self, principal: Principal, data: PasswordChangeIn, client_ip: str
    ) -> None:
        """With the current password; every session of the user ends."""
        self.passwords.check_strength(data.new_password, "new_password")
        user = await User.get_or_none(id=principal.user_id)
        if user is None:
            raise NotFound("This account no longer exists")
        try:
            await self.check_credentials(user.email, data.current_password, client_ip)
        except Unauthenticated:
            raise Unauthenticated(WRONG_PASSWORD) from None
        await self._set_password(principal, await self.passwords.hash(data.new_password))

    @unit_of_work
    async def _set_password(self, principal: Principal, password_hash: str) -> None:
        await User.filter(id=principal.user_id).update(password_hash=password_hash)
        await self.sessions.revoke_user(principal.user_id)
        await record(
            Action.USER_PASSWORD_CHANGED,
            organization_id=principal.organization_id,
            target_type=TargetType.USER,
            target_id=principal.user_id,
            actor_id=principal.user_id,
        )

    async def request_reset(self, email: str, client_ip: str) -> str:
        """Queue a reset email for `email` (sent only if an account has it); the same
        answer and the same work either way."""
        by_email = (self._reset_by_email, email_key(email))
        for limit, subject in (by_email, (self._reset_by_address, client_ip)):
            wait = await ratelimit.hit(limit, subject)
            if wait is not None:
                raise Throttled(
                    "Too many password reset requests; try again later", retry_after=wait
                )
        # Who asked goes with the email: the audit event is written when it is sent,
        # if an account has the address (looking now would answer faster for none).
        source = origin.current()
        await self._outbox.enqueue(
            kind=RESET_KIND,
            to_address=email,
            context={"request_id": source.request_id, "ip": source.ip},
        )
        self._outbox.wake()
        return RESET_ACCEPTED

    @staticmethod
    async def check_reset_token(token: str) -> None:
        """Raise Gone unless `token` is a usable reset token (the page checks first)."""
        await usable_reset_token(token)

    async def confirm_reset(self, data: PasswordResetConfirmIn) -> None:
        """A new password with a token from a reset email; every session of the user ends."""
        self.passwords.check_strength(data.new_password, "new_password")
        password_hash = await self.passwords.hash(data.new_password)
        await self._reset(data.token, password_hash)

    @unit_of_work
    async def _reset(self, token: str, password_hash: str) -> None:
        used = await use_reset_token(token)
        await User.filter(id=used.user_id).update(password_hash=password_hash)
        # The reset link reached this mailbox: the address is proven.
        await User.filter(id=used.user_id, email_verified_at__isnull=True).update(
            email_verified_at=datetime.now(UTC)
        )
        await self.sessions.revoke_user(used.user_id)
        await record(
            Action.USER_PASSWORD_RESET,
            organization_id=None,
            target_type=TargetType.USER,
            target_id=used.user_id,
            actor_id=used.user_id,
        )
