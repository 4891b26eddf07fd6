"""Password reset by email: the email, its single-use token, and using the token.

Asking for a reset queues an email to whatever address was typed, the same work
whether or not an account has it (no enumeration by status, body or timing). The
account is looked up, and the token created, only when the dispatcher is about to
send: no account, no email. A new token replaces the account's unused ones; it lives
PASSWORD_RESET_TTL seconds and works once.
"""

from __future__ import annotations

import html
from string import Template

from tortoise.transactions import in_transaction

from app.accounts import one_time
from app.accounts.models import OneTimeToken, TokenPurpose, User
from app.audit.actions import Action, TargetType
from app.audit.log import record
from app.fields import email_key
from app.mail.kinds import Cancel, Content, Delivery
from app.runtime.origin import Origin

KIND = "password_reset"
UNUSABLE = "This password reset link is no longer valid; ask for a new one"

_SUBJECT = "Reset your Onramp password"
_TEXT = Template(
    """Hello,

Someone (we hope you) asked to reset the password of the Onramp account for this
address. Choose a new password here (the link works once, for $minutes minutes):

$link

If you did not ask for this, ignore this email: your password stays as it is.
"""
)
_HTML = Template(
    """<!doctype html>
<html><body style="font-family: sans-serif">
<p>Hello,</p>
<p>Someone (we hope you) asked to reset the password of the Onramp account for this
address.</p>
<p><a href="$link">Choose a new password</a> (the link works once, for $minutes minutes).</p>
<p style="color: #666">If you did not ask for this, ignore this email: your password stays
as it is.</p>
</body></html>
"""
)


class PasswordResetMail(one_time.OneTimeTokenMail):
    name = KIND
    page = "reset"

    async def prepare(self, delivery: Delivery, sealed_secret: str | None) -> str | None:
        async with in_transaction():
            user = await User.get_or_none(email_key=email_key(delivery.to_address))
            if user is None:
                raise Cancel("no account has this address")
            token = await one_time.issue(user.id, TokenPurpose.PASSWORD_RESET, self._ttl)
            asked = delivery.context
            await record(
                Action.USER_PASSWORD_RESET_REQUESTED,
                organization_id=None,
                target_type=TargetType.USER,
                target_id=user.id,
                source=Origin(request_id=asked.get("request_id"), ip=asked.get("ip")),
            )
        return token

    def render(self, delivery: Delivery, secret: str | None) -> Content:
        if secret is None:
            raise ValueError("a password reset email needs its token")
        link = self.link(secret)
        minutes = int(self._ttl.total_seconds() // 60)
        return Content(
            subject=_SUBJECT,
            text=_TEXT.substitute(link=link, minutes=minutes),
            html=_HTML.substitute(link=html.escape(link, quote=True), minutes=minutes),
        )


async def usable_reset_token(token: str) -> OneTimeToken:
    """The unused, unexpired reset token, or Gone."""
    return await one_time.usable(token, TokenPurpose.PASSWORD_RESET, UNUSABLE)


async def use_reset_token(token: str) -> OneTimeToken:
    """Spend the token (inside the caller's transaction): of two concurrent uses, one wins."""
    return await one_time.spend(token, TokenPurpose.PASSWORD_RESET, UNUSABLE)
