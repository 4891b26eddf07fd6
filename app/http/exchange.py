"""Errors of the HTTP exchange itself: a body that is not JSON, a wrong content type.

Raised where a request's body is read (`app.http.request`, `app.http.validation`);
their statuses are in the one table, `app.http.errors.STATUS_OF`.
"""

from __future__ import annotations

from app.errors import ErrorCode


class HttpError(Exception):
    """An error of the HTTP exchange itself; subclasses fix the code (and, in
    `STATUS_OF`, the status)."""

    code = ErrorCode.BAD_REQUEST


class MalformedJSON(HttpError):
    """The request body is not valid JSON."""

    code = ErrorCode.MALFORMED_JSON


class UnsupportedMediaType(HttpError):
    """Send the body as application/json."""

    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
