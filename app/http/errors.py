"""Every error, ours or Sanic's, leaves as one JSON envelope with a fitting status.

`{"error": {"code", "message", "details", "request_id"}}`: clients branch on `code`,
show `message`, and quote `request_id` to an operator, who finds it in the logs. The
envelope is a model (`ErrorEnvelope`): the body is built from it and the OpenAPI
document describes it.

`STATUS_OF` is the one table from exception class to status (Starlette's
`exception_handlers`, walked by MRO): domain errors, which know no HTTP, and the errors
of HTTP itself (`app.http.exchange`: a body that is not JSON, a wrong content type). The
document's error responses and their examples are derived from it (`app.http.docs`).
Sanic's own exceptions carry their status; `CODE_OF_STATUS` names their code.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict
from sanic.exceptions import RequestCancelled, SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse

from app import errors
from app.errors import DomainError, ErrorCode, RetryLater
from app.http.exchange import HttpError, MalformedJSON, UnsupportedMediaType
from app.http.request import OnrampRequest, as_onramp_request
from app.http.request_id import request_id
from app.http.responses import json
from app.runtime.outages import OncePer, outage_kind

logger = logging.getLogger("onramp.errors")


STATUS_OF: dict[type[DomainError] | type[HttpError], int] = {
    MalformedJSON: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    UnsupportedMediaType: 415,
    errors.Invalid: 422,
    errors.Throttled: 429,
    errors.Unavailable: 503,
    errors.Overloaded: 503,
    DomainError: 400,
    HttpError: 400,
}
"""Most specific first where two share a status: the first class of a status is the
one the document's example shows."""

CODE_OF_STATUS = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    408: ErrorCode.REQUEST_TIMEOUT,
    409: ErrorCode.CONFLICT,
    410: ErrorCode.GONE,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    416: ErrorCode.RANGE_NOT_SATISFIABLE,
    422: ErrorCode.VALIDATION_FAILED,
    429: ErrorCode.TOO_MANY_REQUESTS,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
"""The code of an error that names none (Sanic's own, by their status)."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="onramp"'}


class ErrorDetail(BaseModel):
    """One problem: the field it concerns (if any), what is wrong, a machine-readable type."""

    model_config = ConfigDict(extra="allow")
    field: str | None = None
    message: str | None = None
    type: str | None = None


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail]
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def status_of(error: DomainError | HttpError) -> int:
    """The status `STATUS_OF` gives this error's class (its own or its nearest base's)."""
    for kind in type(error).__mro__:
        status = STATUS_OF.get(kind)
        if status is not None:
            return status
    raise TypeError(f"{type(error).__name__} has no status")  # (both bases are in the table)


def example_code(status: int) -> ErrorCode:
    """The code the document shows for `status`: that of the first class of the table
    with it, or Sanic's (`CODE_OF_STATUS`)."""
    for kind, known in STATUS_OF.items():
        if known == status:
            return kind.code
    return CODE_OF_STATUS[status]


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


def error_body(
    request: OnrampRequest, code: str, message: str, details: list[Any]
) -> dict[str, Any]:
    """The envelope as JSON-ready data (details keep only what they say)."""
    envelope = ErrorEnvelope.model_validate(
        {
            "error": {
                "code": code,
                "message": message,
                "details": details,
                "request_id": request_id(request),
            }
        }
    )
    return envelope.model_dump(mode="json", exclude_unset=True)


class ApiErrorHandler(ErrorHandler):
    """Renders every exception as the envelope; tracebacks only when configured."""

    def __init__(self, *, show_details: bool, complete_allow: bool = True) -> None:
        super().__init__()
        self.show_details = show_details
        self.complete_allow = complete_allow  # app.compat.routing_allow
        self._outages = OncePer(logger)

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        onramp_request = as_onramp_request(request)
        outage = None if isinstance(exception, DomainError) else outage_kind(exception)
        if outage is not None:
            # The client should retry later (503), and this is no bug to trace: one line
            # per kind of outage per interval, not a traceback per request.
            self._outages.warning(outage, f"database unavailable ({outage}): answering 503")
            exception = errors.Unavailable()
        elif isinstance(exception, pydantic.ValidationError):
            exception = errors.Invalid(details=validation_details(exception))
        headers: dict[str, str] = {}
        details: list[Any] = []
        if isinstance(exception, DomainError | HttpError):
            status = status_of(exception)
            code: str = exception.code
            message = str(exception)
            if isinstance(exception, DomainError):
                message, details = exception.message, exception.details
            if isinstance(exception, RetryLater):
                headers["Retry-After"] = str(exception.retry_after)
            if status == 401:
                headers.update(CHALLENGE)
        elif isinstance(exception, SanicException):
            status = exception.status_code
            code = getattr(exception, "code", None) or CODE_OF_STATUS.get(
                status, ErrorCode.BAD_REQUEST
            )
            message = str(exception) or code.replace("_", " ")
            headers = dict(getattr(exception, "headers", None) or {})
            if status == 405 and "Allow" not in headers and self.complete_allow:
                from app.compat.routing_allow import allowed_methods

                headers["Allow"] = ", ".join(
                    allowed_methods(request.app.router, request.path, request.host)
                )
        elif isinstance(exception, RequestCancelled):
            # nginx's 499: the client closed the connection before the answer. Nobody
            # reads this response; the request log and metrics say what happened.
            status, code, message = 499, ErrorCode.CLIENT_CLOSED_REQUEST, "Client closed request"
        else:
            status, code, message = 500, ErrorCode.INTERNAL_ERROR, "Internal server error"
        if isinstance(exception, RequestCancelled):
            # The client went away mid-request (load balancers, load tools): nobody will
            # read this response and nothing on our side failed.
            logger.debug("%s %s cancelled by the client", request.method, request.path)
        elif status >= 500 and not isinstance(exception, RetryLater):
            # (Overloaded is expected under a burst; the executor logs it once in a while.)
            self._log_server_error(request, exception)
            if self.show_details and not isinstance(exception, SanicException | DomainError):
                details = [{"traceback": traceback.format_exception(exception)}]
        body = error_body(onramp_request, code, message, details)
        return json(body, status=status, headers=headers)

    @staticmethod
    def _log_server_error(request: Request, exception: Exception) -> None:
        logger.error(
            "%s %s failed: %r",
            request.method,
            request.path,
            exception,
            exc_info=exception,
        )
