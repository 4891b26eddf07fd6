"""What can go wrong in the domain, in its own words: no HTTP, no framework.

Services raise these; the HTTP layer maps each class to a status and the JSON envelope
in one table (`app.http.errors`), and operator commands print them. A client branches
on `code`, so every code an error can carry is listed in `ErrorCode`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Every `error.code` the API answers with."""

    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    REQUEST_HEAD_TOO_LARGE = "request_head_too_large"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TIMEOUT = "request_timeout"
    CONFLICT = "conflict"
    GONE = "gone"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    VALIDATION_FAILED = "validation_failed"
    TOO_MANY_REQUESTS = "too_many_requests"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    NOT_READY = "not_ready"
    CLIENT_CLOSED_REQUEST = "client_closed_request"


class DomainError(Exception):
    """A rule said no. Subclasses fix the default code; `message` is for people."""

    code: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST

    def __init__(self, message: str | None = None, *, details: list[dict[str, Any]] | None = None):
        super().__init__(message or self.__doc__ or self.code.value)
        self.message = str(self.args[0])
        self.details: list[dict[str, Any]] = details or []


class NotFound(DomainError):
    """Not found."""

    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """This conflicts with the current state."""

    code = ErrorCode.CONFLICT


class Gone(DomainError):
    """This is no longer available."""

    code = ErrorCode.GONE


class Forbidden(DomainError):
    """You are not allowed to do this."""

    code = ErrorCode.FORBIDDEN


class Unauthenticated(DomainError):
    """The credentials are missing, wrong or expired."""

    code = ErrorCode.UNAUTHORIZED


class Invalid(DomainError):
    """The input did not validate; `details` names each field."""

    code = ErrorCode.VALIDATION_FAILED

    @classmethod
    def field(cls, name: str, message: str, kind: str = "invalid") -> Invalid:
        return cls(details=[{"field": name, "message": message, "type": kind}])


class RetryLater(DomainError):
    """Not now; the same request may succeed after `retry_after` seconds."""

    retry_after: int = 1

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = max(1, retry_after)


class Throttled(RetryLater):
    """Too many attempts; retry after `retry_after` seconds."""

    code = ErrorCode.TOO_MANY_REQUESTS


class Unavailable(RetryLater):
    """A resource this needs (the database) is unavailable; retry later."""

    code = ErrorCode.DATABASE_UNAVAILABLE
    retry_after = 5  # seconds: an outage is not over in one, and clients should not spin


class Overloaded(RetryLater):
    """This worker is at capacity for this kind of work (its bounded queue is full):
    answered at once, instead of making the client wait in a queue it may abandon."""

    code = ErrorCode.SERVICE_UNAVAILABLE
