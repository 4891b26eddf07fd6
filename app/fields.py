"""Field types shared by the request models of several areas: email addresses, strict
bodies, queries, clean text. Validation only; nothing here knows HTTP or the database."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Annotated, Any, ClassVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError


def normalize_email(value: str) -> str:
    """Trim, validate the syntax, lower-case the domain (the local part is kept as sent)."""
    value = value.strip()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return f"{checked.local_part}@{checked.domain.lower()}"


def email_key(address: str) -> str:
    """The form in which two addresses are the same: NFKC-normalised (fullwidth and other
    compatibility look-alikes fold to their plain letters) and case-folded. Uniqueness
    and lookups use it; the address as typed is kept for display and sending."""
    return unicodedata.normalize("NFKC", address).casefold()


Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalize_email),
]


SETTING_MARKER = "x-min-length-setting"
"""On a string field whose minimum length is a setting: the OpenAPI document gets that
setting's value as `minLength` when the app is built (the marker stays, naming it)."""


_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]")


def _iso_date_time_only(value: object) -> object:
    """pydantic also reads a number ("0.5") as a Unix time; the document promises RFC 3339
    (`format: date-time`), so a query gets exactly that."""
    if isinstance(value, str) and not _ISO_DATE_TIME.match(value.strip()):
        raise ValueError("must be a date and time with an offset, e.g. 2026-11-30T09:00:00Z")
    return value


DateTimeParam = Annotated[AwareDatetime, BeforeValidator(_iso_date_time_only)]
"""A date and time in a query string: RFC 3339, with its offset."""


# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators. A NUL is
# refused by PostgreSQL (a 500 if it got that far); a line break in a name breaks an
# email header; none of them belongs in a name, an address, a token or a search.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Multi-line fields (a message, notes) may hold line breaks and tabs, nothing else.
_CONTROL_IN_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# The same rules as JSON Schema patterns (ECMA-262 and Python `re` alike), so that the
# OpenAPI document says what is refused. Values are trimmed first, of what pydantic's
# `str_strip_whitespace` trims (Unicode White_Space), so a control character that is
# also white space may lead or trail.
_WHITE_SPACE = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL_CLASS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
_MULTILINE_CONTROL_CLASS = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029"


def trimmed(core: str) -> str:
    """A pattern for a field whose value, once trimmed, matches `core`."""
    return f"^[{_WHITE_SPACE}]*{core}[{_WHITE_SPACE}]*$"


SINGLE_LINE_PATTERN = trimmed(f"[^{_CONTROL_CLASS}]*")
MULTILINE_PATTERN = trimmed(f"(?:[^{_MULTILINE_CONTROL_CLASS}]|\\r\\n)*")
# For a field with a `minLength`: not blank either (the length counts after trimming).
NOT_BLANK_SINGLE_LINE_PATTERN = trimmed(f"[^{_CONTROL_CLASS}{_WHITE_SPACE}][^{_CONTROL_CLASS}]*")
NOT_BLANK_MULTILINE_PATTERN = trimmed(
    f"[^{_MULTILINE_CONTROL_CLASS}{_WHITE_SPACE}](?:[^{_MULTILINE_CONTROL_CLASS}]|\\r\\n)*"
)


def document_clean_text(schema: JsonDict, model: type[Any]) -> None:
    """Each free-text property of the model's JSON Schema gets the pattern it is held to."""
    multiline: frozenset[str] = getattr(model, "multiline", frozenset())
    properties: Any = schema.get("properties", {})
    for name, field in properties.items():
        for option in field.get("anyOf", [field]):
            if option.get("type") == "string" and not {"format", "enum", "pattern"} & set(option):
                option["pattern"] = _pattern_for(name in multiline, option.get("minLength", 0) > 0)


def _pattern_for(multiline: bool, not_blank: bool) -> str:
    if multiline:
        return NOT_BLANK_MULTILINE_PATTERN if not_blank else MULTILINE_PATTERN
    return NOT_BLANK_SINGLE_LINE_PATTERN if not_blank else SINGLE_LINE_PATTERN


class CleanTextModel(BaseModel):
    """Every string field of a request is single-line text without control characters,
    except the fields named in `multiline`, which may hold `\n` (a `\r\n` becomes
    `\n`) and `\t`. One rule for every request model, so no field can be forgotten;
    the JSON Schema states it as a `pattern` on each such field."""

    model_config = ConfigDict(json_schema_extra=document_clean_text)

    multiline: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _at_most_max_length_as_sent(cls, value: object, info: ValidationInfo) -> object:
        """`maxLength` counts what was sent; pydantic would count it after trimming."""
        if isinstance(value, str) and info.field_name is not None:
            limit = _max_lengths(cls).get(info.field_name)
            if limit is not None and len(value) > limit:
                raise PydanticCustomError(
                    "string_too_long",
                    "String should have at most {max_length} characters",
                    {"max_length": limit},
                )
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        if info.field_name in cls.multiline:
            value = value.replace("\r\n", "\n")
            if _CONTROL_IN_MULTILINE.search(value):
                raise ValueError(
                    "must not contain control characters other than line breaks and tabs"
                )
            return value
        if _CONTROL.search(value):
            raise ValueError("must be one line without control characters")
        return value


@cache
def _max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """Each string field's `maxLength`, as the model's JSON Schema (the document) says."""
    limits: dict[str, int] = {}
    schema: Any = model.model_json_schema()
    for name, field in schema.get("properties", {}).items():
        for option in field.get("anyOf", [field]):
            if "maxLength" in option:
                limits[name] = option["maxLength"]
    return limits


class StrictModel(CleanTextModel):
    """Request bodies: unknown fields are an error, strings are trimmed and clean."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryModel(CleanTextModel):
    """Query strings: unknown parameters are ignored, values are trimmed and clean."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
