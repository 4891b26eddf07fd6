"""Request and response shapes of the vendor endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    field_validator,
)
from pydantic.config import JsonDict

from app.fields import Email, QueryModel, StrictModel, document_clean_text, trimmed
from app.vendors.statuses import VendorStatus

_HTTP_URL = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    """An absolute http(s) URL, kept exactly as sent: pydantic's normal form (a `/`
    added after a bare host, an IDN host in punycode) would answer a client with a value
    other than the one it stored, and could make it longer than the column."""
    _HTTP_URL.validate_python(value)
    return value


Website = Annotated[
    str, Field(max_length=2048, json_schema_extra={"format": "uri"}), AfterValidator(_http_url)
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[str, Field(max_length=50, pattern=trimmed(r"[0-9+()./ -]*"))]
Category = Annotated[str, Field(max_length=100)]
Notes = Annotated[str, Field(max_length=5000)]


class VendorCreate(StrictModel):
    multiline = frozenset({"notes"})

    name: Name
    contact_email: Email
    phone: Phone | None = None
    website: Website | None = None
    category: Category | None = None
    notes: Notes | None = None


def _required_fields_not_nullable(schema: JsonDict, model: type[Any]) -> None:
    """Document what the validator below enforces: these fields may be omitted, not null
    (and, as for every request model, the text rule)."""
    properties: Any = schema["properties"]
    for name in _NOT_NULLABLE:
        field = properties[name]
        options = [option for option in field.pop("anyOf", []) if option != {"type": "null"}]
        field.update(options[0])
        field.pop("default", None)
    document_clean_text(schema, model)


_NOT_NULLABLE = ("name", "contact_email", "status")


class VendorPatch(StrictModel):
    """Only the fields sent are changed; `null` clears an optional field."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_required_fields_not_nullable
    )

    multiline = frozenset({"notes"})

    name: Name | None = None
    contact_email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    category: Category | None = None
    notes: Notes | None = None
    status: VendorStatus | None = None

    @field_validator(*_NOT_NULLABLE, mode="before")
    @classmethod
    def _required_fields_cannot_be_cleared(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class VendorListQuery(QueryModel):
    """Unknown query parameters are ignored (caches and proxies add their own)."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)
    status: VendorStatus | None = None
    q: str | None = Field(default=None, max_length=200)


class VendorOut(BaseModel):
    """A vendor as its organisation sees it. Its fields, in this order, are also the
    columns the hot reads select (`app.vendors.queries`) and what `vendor_out` takes."""

    id: uuid.UUID
    name: str
    contact_email: str
    phone: str | None
    website: str | None
    category: str | None
    notes: str | None
    status: VendorStatus
    created_at: datetime
    updated_at: datetime


class VendorPage(BaseModel):
    items: list[VendorOut]
    next_cursor: str | None


class ProfileOut(BaseModel):
    """The vendor as its own contact sees it (the organisation's notes stay private)."""

    id: uuid.UUID
    name: str
    contact_email: str
    phone: str | None
    website: str | None
    category: str | None
    status: VendorStatus
    created_at: datetime
    updated_at: datetime


VENDOR_FIELDS = tuple(VendorOut.model_fields)
PROFILE_FIELDS = tuple(ProfileOut.model_fields)


class ProfilePatch(StrictModel):
    """What a vendor's contact may keep up to date."""

    phone: Phone | None = None
    website: Website | None = None
