"""Email bodies (text and HTML). Everything a user typed is escaped in the HTML part."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import make_msgid
from string import Template
from typing import Any
from urllib.parse import quote

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


def new_message_id(mail_from: str) -> str:
    domain = mail_from.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return make_msgid(domain=domain)


def render_invitation(
    *, context: dict[str, Any], link: str, mail_from: str, to: str, message_id: str
) -> EmailMessage:
    organization = str(context["organization_name"])
    vendor = str(context["vendor_name"])
    personal = str(context.get("message") or "")
    expires = str(context["expires_at"])
    message = EmailMessage()
    message["Subject"] = _SUBJECT.substitute(organization=organization, vendor=vendor)
    message["From"] = mail_from
    message["To"] = to
    message["Message-ID"] = message_id
    message.set_content(
        _TEXT.substitute(
            organization=organization,
            vendor=vendor,
            message=f"\nTheir message:\n\n{personal}\n" if personal else "",
            expires=expires,
            link=link,
        )
    )
    quoted = (
        f"<blockquote>{html.escape(personal).replace(chr(10), '<br>')}</blockquote>"
        if personal
        else ""
    )
    message.add_alternative(
        _HTML.substitute(
            organization=html.escape(organization),
            vendor=html.escape(vendor),
            message=quoted,
            expires=html.escape(expires),
            link=html.escape(link, quote=True),
        ),
        subtype="html",
    )
    return message
