"""The invitation email: what it says, and what its delivery does to the invitation.

Everything a person typed (organisation, vendor, message) is escaped in the HTML part.
"""

from __future__ import annotations

import html
from datetime import datetime
from string import Template
from urllib.parse import quote

from app.invitations import flows
from app.invitations.models import Invitation
from app.mail.kinds import Content, Delivery, MailKind

KIND = "invitation"

_SUBJECT = Template("$organization invites $vendor to Onramp")

_TEXT = Template(
    """Hello,

$organization invites $vendor to keep its vendor profile up to date on Onramp.
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
<p><strong>$organization</strong> invites <strong>$vendor</strong> to keep its vendor
profile up to date on Onramp.</p>
$message
<p><a href="$link">Accept the invitation</a> (the link works once and expires on $expires).</p>
<p style="color: #666">If you did not expect this email, you can ignore it.</p>
</body></html>
"""
)


def invitation_link(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/invite?token={quote(token, safe='')}"


class InvitationMail(MailKind):
    name = KIND

    def __init__(self, public_base_url: str) -> None:
        self._public_base_url = public_base_url

    def render(self, delivery: Delivery, secret: str | None) -> Content:
        if secret is None:
            raise ValueError("an invitation email needs its token")
        context = delivery.context
        organization = str(context["organization_name"])
        vendor = str(context["vendor_name"])
        personal = str(context.get("message") or "")
        expires = str(context["expires_at"])
        link = invitation_link(self._public_base_url, secret)
        quoted = (
            f"<blockquote>{html.escape(personal).replace(chr(10), '<br>')}</blockquote>"
            if personal
            else ""
        )
        return Content(
            subject=_SUBJECT.substitute(organization=organization, vendor=vendor),
            text=_TEXT.substitute(
                organization=organization,
                vendor=vendor,
                message=f"\nTheir message:\n\n{personal}\n" if personal else "",
                expires=expires,
                link=link,
            ),
            html=_HTML.substitute(
                organization=html.escape(organization),
                vendor=html.escape(vendor),
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
