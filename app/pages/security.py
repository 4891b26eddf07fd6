"""What every page and form needs: CSRF protection and strict response headers.

CSRF: a signed double-submit cookie. Showing a form sets a random value in a
`SameSite=Strict`, HttpOnly cookie and puts HMAC(SECRET_KEY, value) in a hidden field;
a POST is accepted only if the two match (constant time) and any `Origin` header names
this site. A cross-site form can neither read the cookie nor forge the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from sanic.response import BaseHTTPResponse

from app.http.request import OnrampRequest

COOKIE = "onramp_csrf"
FIELD = "csrf"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class Csrf:
    def __init__(self, secret_key: str, public_base_url: str) -> None:
        self._key = hashlib.sha256(b"onramp csrf v1" + secret_key.encode()).digest()
        base = urlsplit(public_base_url)
        self._secure = base.scheme == "https"
        self._origin = f"{base.scheme}://{base.netloc}"

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def issue(self, response: BaseHTTPResponse, value: str) -> None:
        response.add_cookie(
            COOKIE,
            value,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self._secure,
            max_age=3600,
        )

    def new(self) -> tuple[str, str]:
        """A cookie value and the form field that goes with it."""
        value = secrets.token_urlsafe(32)
        return value, self._sign(value)

    def valid(self, request: OnrampRequest, field: str | None) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin != self._origin and origin != _own(request):
            return False
        cookie = request.cookies.get(COOKIE)
        if not cookie or not field:
            return False
        return hmac.compare_digest(self._sign(cookie), field)


def _own(request: OnrampRequest) -> str:
    """This request's own origin (behind no proxy, when PUBLIC_BASE_URL differs)."""
    return f"{request.scheme}://{request.host}"
