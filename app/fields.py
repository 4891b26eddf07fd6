"""Field types shared by the request models of several areas: email addresses, strict
bodies. Validation only; nothing here knows HTTP or the database."""

from __future__ import annotations

from typing import Annotated

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


Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalize_email),
]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
