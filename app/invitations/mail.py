"""The invitation email: what it says, and what its delivery does to the invitation.

Everything a person typed (organisation, vendor, inviter, message) is escaped in the HTML
part. Vendor contacts are asked to keep their vendor's profile; teammates to join.
"""

from __future__ import annotations

import html
from datetime import datetime
from string import Template

from app.invitations import flows
from app.invitations.models import Invitation, InvitationKind
from app.mail.kinds import Content, Delivery, MailKind, page_link

KIND = "invitation"

_VENDOR_SUBJECT = Template("$organization invites $vendor to Onramp")
_TEAMMATE_SUBJECT = Template("$organization invites you to its team on Onramp")

# What the invitation asks, by kind: text (plain) and html (escaped parts).
_VENDOR_ASK = Template(
    "$inviter of $organization invites $vendor to keep its vendor profile up to date on Onramp."
)
_TEAMMATE_ASK = Template("$inviter invites you to join $organization on Onramp as $role.")

_TEXT = Template(
    """Hello,

$ask
$message
Accept the invitation here (the link works once and expires on $expires):

$link

If you did not expect this email, you can ignore it.
"""
)

_HTML = Template(
    """<!doctype html>
<html><body style="font-family: sans-serif">
<p>Hello,</p>
<p>$ask</p>
$message
<p><a href="$link">Accept the invitation</a> (the link works once and expires on $expires).</p>
<p style="color: #666">If you did not expect this email, you can ignore it.</p>
</body></html>
"""
)


def _ask(context: dict[str, object], escape: bool) -> str:
    """The sentence that says who invites whom to what (names escaped for HTML)."""

    def value(name: str, default: str) -> str:
        text = str(context.get(name) or default)
        return f"<strong>{html.escape(text)}</strong>" if escape else text

    organization = value("organization_name", "An organisation")
    # Emails queued before the inviter was named: "Someone" reads naturally.
    inviter = value("inviter_name", "Someone")
    if context.get("kind") == InvitationKind.TEAMMATE:
        role = html.escape(str(context.get("role"))) if escape else str(context.get("role"))
        return _TEAMMATE_ASK.substitute(inviter=inviter, organization=organization, role=role)
    return _VENDOR_ASK.substitute(
        inviter=inviter, organization=organization, vendor=value("vendor_name", "your company")
    )


class InvitationMail(MailKind):
    name = KIND

    def __init__(self, public_base_url: str) -> None:
        self._public_base_url = public_base_url

    def render(self, delivery: Delivery, secret: str | None) -> Content:
        if secret is None:
            raise ValueError("an invitation email needs its token")
        context = delivery.context
        organization = str(context["organization_name"])
        personal = str(context.get("message") or "")
        expires = str(context["expires_at"])
        link = page_link(self._public_base_url, "invite", secret)
        quoted = (
            f"<blockquote>{html.escape(personal).replace(chr(10), '<br>')}</blockquote>"
            if personal
            else ""
        )
        if context.get("kind") == InvitationKind.TEAMMATE:
            subject = _TEAMMATE_SUBJECT.substitute(organization=organization)
        else:
            subject = _VENDOR_SUBJECT.substitute(
                organization=organization, vendor=str(context.get("vendor_name"))
            )
        return Content(
            subject=subject,
            text=_TEXT.substitute(
                ask=_ask(context, escape=False),
                message=f"\nTheir message:\n\n{personal}\n" if personal else "",
                expires=expires,
                link=link,
            ),
            html=_HTML.substitute(
                ask=_ask(context, escape=True),
                message=quoted,
                expires=html.escape(expires),
                link=html.escape(link, quote=True),
            ),
        )

    async def lock(self, delivery: Delivery) -> None:
        if delivery.ref_id is not None:
            await Invitation.filter(id=delivery.ref_id).select_for_update().first()

    async def sent(self, delivery: Delivery, at: datetime) -> None:
        if delivery.ref_id is not None:
            await flows.sent(delivery.ref_id, delivery.ref_version, at)

    async def failed(self, delivery: Delivery, reason: str) -> None:
        if delivery.ref_id is not None:
            await flows.failed(delivery.ref_id, delivery.ref_version, reason)
