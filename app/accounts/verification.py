"""Address verification: the email a signup sends, its single-use token, and what the
person who controls the mailbox may do with it: confirm the address, or, if they never
signed up, release it.

An unverified account holds its address only provisionally. Proving control of the
mailbox wins over it: this link (confirm, or "this was not me"), or an invitation token
(accepting creates the mailbox owner's own account). Releasing moves the unverified
account off the address (to `<id>@released.invalid`, which no mail can reach) and ends
its sessions; its organisation stays, as it was, without a usable sign-in.

The token is made when the email is about to be sent (as for password resets), for the
account the email was queued for and only while it still holds the address unverified.
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from string import Template

from tortoise.transactions import in_transaction

from app.accounts import one_time
from app.accounts.models import OneTimeToken, TokenPurpose, User
from app.accounts.sessions import Sessions
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.errors import Gone
from app.fields import email_key
from app.mail.kinds import Cancel, Content, Delivery

KIND = "email_verification"
UNUSABLE = "This confirmation link is no longer valid; sign in and ask for a new one"
RELEASED_DOMAIN = "released.invalid"

SUBJECT = "Confirm your email address for Onramp"
_TEXT = Template(
    """Hello,

An Onramp account was created with this address ($name, organisation $organization).
If that was you, confirm the address here (the link works once, for $hours hours):

$link

If it was not you, open the same link and choose "This was not me": the address is
released and nobody can use it on Onramp until its owner does.
"""
)
_HTML = Template(
    """<!doctype html>
<html><body style="font-family: sans-serif">
<p>Hello,</p>
<p>An Onramp account was created with this address (<strong>$name</strong>, organisation
<strong>$organization</strong>).</p>
<p><a href="$link">Confirm the address</a> (the link works once, for $hours hours).</p>
<p style="color: #666">If it was not you, open the same link and choose "This was not
me": the address is released.</p>
</body></html>
"""
)


class VerificationMail(one_time.OneTimeTokenMail):
    name = KIND
    page = "verify"

    async def prepare(self, delivery: Delivery, sealed_secret: str | None) -> str | None:
        async with in_transaction():
            user = await User.get_or_none(id=delivery.ref_id) if delivery.ref_id else None
            if user is None or user.email_verified_at is not None:
                raise Cancel("the account is gone or already confirmed")
            if email_key(user.email) != email_key(delivery.to_address):
                raise Cancel("the account no longer has this address")
            token = await one_time.issue(user.id, TokenPurpose.EMAIL_VERIFICATION, self._ttl)
        return token

    def render(self, delivery: Delivery, secret: str | None) -> Content:
        if secret is None:
            raise ValueError("a verification email needs its token")
        link = self.link(secret)
        name = str(delivery.context.get("full_name") or "")
        organization = str(delivery.context.get("organization_name") or "")
        hours = int(self._ttl.total_seconds() // 3600)
        return Content(
            subject=SUBJECT,
            text=_TEXT.substitute(link=link, name=name, organization=organization, hours=hours),
            html=_HTML.substitute(
                link=html.escape(link, quote=True),
                name=html.escape(name),
                organization=html.escape(organization),
                hours=hours,
            ),
        )


async def pending_account(token: str) -> User:
    """The unverified account a usable verification token is for, or Gone."""
    found = await one_time.usable(token, TokenPurpose.EMAIL_VERIFICATION, UNUSABLE)
    user = await User.get_or_none(id=found.user_id, email_verified_at__isnull=True)
    if user is None:
        raise Gone(UNUSABLE)
    return user


async def spend(token: str) -> User:
    """Spend the token (inside the caller's transaction): of two uses, one wins."""
    user = await pending_account(token)
    await one_time.spend(token, TokenPurpose.EMAIL_VERIFICATION, UNUSABLE)
    return user


async def confirmed(user: User) -> None:
    """The address is the account's for good (inside the caller's transaction)."""
    await User.filter(id=user.id).update(email_verified_at=datetime.now(UTC))
    await record(
        Action.USER_EMAIL_VERIFIED,
        organization_id=None,
        target_type=TargetType.USER,
        target_id=user.id,
        actor_id=user.id,
    )


async def released(user: User, actor_id: uuid.UUID | None) -> None:
    """The unverified `user` gives up its address to whoever controls the mailbox
    (inside the caller's transaction): moved off it, signed out everywhere."""
    placeholder = f"{user.id}@{RELEASED_DOMAIN}"
    await User.filter(id=user.id, email_verified_at__isnull=True).update(
        email=placeholder, email_key=placeholder
    )
    await OneTimeToken.filter(user_id=user.id).delete()
    await Sessions.revoke_user(user.id)
    await record(
        Action.USER_ADDRESS_RELEASED,
        organization_id=None,
        target_type=TargetType.USER,
        target_id=user.id,
        actor_id=actor_id,
        changes={"email": [user.email, placeholder]},
    )
