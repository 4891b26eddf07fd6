"""Every error, ours or Sanic's, leaves as one JSON envelope with a fitting status.

`{"error": {"code", "message", "details", "request_id"}}`: clients branch on `code`,
show `message`, and quote `request_id` to an operator, who finds it in the logs.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

import asyncpg
import pydantic
from sanic import Request
from sanic.exceptions import RequestCancelled, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json
from sanic_ext.exceptions import ValidationError as SanicExtValidationError
from tortoise.exceptions import DBConnectionError

from app.http.request_id import request_id

logger = logging.getLogger("onramp.errors")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}

# Raised when the database cannot be reached: the client should retry later (503),
# not report a bug (500).
_DATABASE_DOWN = (
    DBConnectionError,
    ConnectionRefusedError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.TooManyConnectionsError,
)


class ApiError(SanicException):
    """An error a client can act on. Subclasses fix the status and the code."""

    status_code = 400
    code = "bad_request"
    quiet = True

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.__doc__ or self.code, headers=dict(headers or {}))
        self.details = details or []


class MalformedJSON(ApiError):
    """The request body is not valid JSON."""

    status_code = 400
    code = "malformed_json"


class Unauthorized(ApiError):
    """Authentication is missing or invalid."""

    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """You are not allowed to do this."""

    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    """This conflicts with the current state."""

    status_code = 409
    code = "conflict"


class Gone(ApiError):
    """This is no longer available."""

    status_code = 410
    code = "gone"


class UnsupportedMediaType(ApiError):
    """Send the body as application/json."""

    status_code = 415
    code = "unsupported_media_type"


class ValidationFailed(ApiError):
    """The request did not validate; see details."""

    status_code = 422
    code = "validation_failed"


class TooManyRequests(ApiError):
    """Too many attempts; retry later."""

    status_code = 429
    code = "too_many_requests"


class DatabaseUnavailable(ApiError):
    """The database is unavailable; retry later."""

    status_code = 503
    code = "database_unavailable"
    quiet = False


def validation_details(error: pydantic.ValidationError) -> list[dict[str, Any]]:
    """One entry per bad field: where, what is wrong, and a machine-readable type."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or None,
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


def error_body(request: Request, code: str, message: str, details: list[Any]) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "request_id": request_id(request),
        }
    }


class ApiErrorHandler(ErrorHandler):
    """Renders every exception as the envelope; tracebacks only in development."""

    def __init__(self, *, show_details: bool) -> None:
        super().__init__()
        self.show_details = show_details

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, _DATABASE_DOWN):
            exception = DatabaseUnavailable()
        elif isinstance(exception, pydantic.ValidationError):
            exception = ValidationFailed(details=validation_details(exception))
        elif isinstance(exception, SanicExtValidationError):
            # sanic-ext's @validate flattens pydantic's error into a 400 string; the
            # original is still its context, so clients get 422 with every field.
            original = exception.__context__
            field_errors = (
                validation_details(original)
                if isinstance(original, pydantic.ValidationError)
                else [{"field": None, "message": str(original or exception), "type": "invalid"}]
            )
            exception = ValidationFailed(details=field_errors)
        headers: dict[str, str] = {}
        details: list[Any] = []
        if isinstance(exception, SanicException):
            status = exception.status_code
            code = getattr(exception, "code", None) or _CODES_BY_STATUS.get(status, "error")
            message = str(exception) or code.replace("_", " ")
            headers = dict(getattr(exception, "headers", None) or {})
            details = list(getattr(exception, "details", None) or [])
        else:
            status, code, message = 500, "internal_error", "Internal server error"
        if isinstance(exception, RequestCancelled):
            # The client went away mid-request (load balancers, load tools): nobody will
            # read this response and nothing on our side failed.
            logger.debug("%s %s cancelled by the client", request.method, request.path)
        elif status >= 500:
            self._log_server_error(request, exception)
            if self.show_details and not isinstance(exception, SanicException):
                details = [{"traceback": traceback.format_exception(exception)}]
        return json(error_body(request, code, message, details), status=status, headers=headers)

    @staticmethod
    def _log_server_error(request: Request, exception: Exception) -> None:
        logger.error(
            "%s %s failed: %r",
            request.method,
            request.path,
            exception,
            exc_info=exception,
        )
