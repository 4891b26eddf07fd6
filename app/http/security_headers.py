"""Headers every response carries, and the one responses with tokens add.

`X-Content-Type-Options: nosniff` (a browser never guesses a type for our JSON),
`Referrer-Policy: no-referrer` (our URLs never leak onwards), and, when
`HSTS_SECONDS` is set (behind TLS only), `Strict-Transport-Security`. A response
that already set one (the HTML pages set stricter ones) keeps its own.
"""

from __future__ import annotations

NO_STORE = {"Cache-Control": "no-store"}
"""For responses that carry a token: no cache on the way may keep them."""


def security_headers(hsts_seconds: int) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (set in `app.http.response_hooks`)."""
    always = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if hsts_seconds > 0:
        always["Strict-Transport-Security"] = f"max-age={hsts_seconds}; includeSubDomains"
    return tuple(always.items())
