"""Schema pieces shared by several areas: email addresses, the error envelope."""

from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def normalize_email(value: str) -> str:
    """Trim, validate the syntax, lower-case the domain (the local part is kept as sent)."""
    value = value.strip()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return f"{checked.local_part}@{checked.domain.lower()}"


Email = Annotated[str, Field(max_length=320), AfterValidator(normalize_email)]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    field: str | None = None
    message: str | None = None


class ErrorBody(BaseModel):
    code: str = Field(examples=["validation_failed"])
    message: str
    details: list[dict[str, Any]]
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody
