"""OpenAPI helpers: pydantic models as OpenAPI 3.0 components, errors in one line.

sanic-ext inlines pydantic's JSON Schema (2020-12 style, `anyOf` with `null`) into an
OpenAPI 3.0 document, which validators and client generators reject. Here each model
becomes a component converted to 3.0 (`nullable`), referenced with `$ref`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sanic_ext.extensions.openapi import definitions
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.types import Schema

from app.errors import ErrorCode


class ErrorDetail(BaseModel):
    """One problem: the field it concerns (if any), what is wrong, a machine-readable type."""

    model_config = ConfigDict(extra="allow")
    field: str | None = None
    message: str | None = None
    type: str | None = None


class ErrorBody(BaseModel):
    code: ErrorCode = Field(examples=["validation_failed"])
    message: str
    details: list[ErrorDetail]
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


_REF = "#/components/schemas/{model}"
_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "Missing or invalid credentials",
    403: "Not allowed for this role",
    404: "Not found (also another organisation's object)",
    409: "Conflict with the current state",
    410: "Gone: used, expired or revoked",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed; details name each field",
    429: "Too many attempts; see Retry-After",
    503: "Database unavailable",
}

BEARER: dict[str, list[str]] = {"bearer": []}


def to_openapi30(schema: Any) -> Any:
    """Rewrite a pydantic JSON Schema fragment into OpenAPI 3.0's dialect."""
    if isinstance(schema, list):
        return [to_openapi30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: to_openapi30(value) for key, value in schema.items() if key != "$defs"}
    options = converted.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        del converted["anyOf"]
        if len(rest) == 1 and "$ref" not in rest[0]:
            converted.update(rest[0])
        else:
            converted["allOf" if len(rest) == 1 else "anyOf"] = rest
        converted["nullable"] = True
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    if "examples" in converted:
        examples = converted.pop("examples")
        if isinstance(examples, list) and examples:
            converted["example"] = examples[0]
    return converted


def component(
    model: type[BaseModel], mode: Literal["validation", "serialization"] = "serialization"
) -> dict[str, Any]:
    """Register `model` (and the models it uses) as components; return a `$ref`.

    `serialization` describes what we send, `validation` what clients may send.
    """
    spec = SpecificationBuilder()
    schema = model.model_json_schema(ref_template=_REF, mode=mode)
    for name, definition in schema.get("$defs", {}).items():
        spec.add_component("schemas", name, to_openapi30(definition))
    spec.add_component("schemas", model.__name__, to_openapi30(schema))
    return {"$ref": _REF.format(model=model.__name__)}


def body(model: type[BaseModel]) -> dict[str, Any]:
    """A required JSON request body of this model."""
    schema = component(model, mode="validation")
    return {"content": {"application/json": {"schema": schema}}, "required": True}


def ok(status: int, model: type[BaseModel] | None, description: str) -> definitions.Response:
    if model is None:
        return definitions.Response(status=status, description=description)
    content = {"application/json": {"schema": component(model)}}
    return definitions.Response(content, status=status, description=description)


def text(status: int, description: str, media_type: str = "text/plain") -> definitions.Response:
    """A plain-text body (the Prometheus exposition format, for one)."""
    content = {media_type: {"schema": {"type": "string"}}}
    return definitions.Response(content, status=status, description=description)


def errors(*statuses: int) -> list[definitions.Response]:
    content = {"application/json": {"schema": component(ErrorEnvelope)}}
    return [
        definitions.Response(content, status=status, description=_ERROR_DESCRIPTIONS[status])
        for status in statuses
    ]


def query_parameters(
    model: type[BaseModel],
) -> list[dict[str, Any] | definitions.Parameter | str]:
    """Each field of a query model as a documented, optional-or-required query parameter."""
    schema = model.model_json_schema()
    definitions_by_name = schema.get("$defs", {})
    parameters: list[dict[str, Any] | definitions.Parameter | str] = []
    for name, field in schema.get("properties", {}).items():
        field_schema = to_openapi30(field)
        field_schema.pop("title", None)
        for key in ("allOf", "anyOf"):
            refs = field_schema.pop(key, None)
            if refs:
                field_schema.update(definitions_by_name[refs[0]["$ref"].rsplit("/", 1)[-1]])
        if "$ref" in field_schema:
            field_schema.update(definitions_by_name[field_schema.pop("$ref").rsplit("/", 1)[-1]])
        field_schema.pop("title", None)
        parameters.append(
            definitions.Parameter(
                name,
                Schema(**field_schema),  # type: ignore[no-untyped-call]
                "query",
                required=name in schema.get("required", []),
                description=field.get("description"),
            )
        )
    return parameters
