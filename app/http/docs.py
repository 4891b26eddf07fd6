"""OpenAPI helpers: pydantic models as OpenAPI 3.0 components, errors in one line.

sanic-ext inlines pydantic's JSON Schema (2020-12 style, `anyOf` with `null`) into an
OpenAPI 3.0 document, which validators and client generators reject. Here each model
becomes a component converted to 3.0 (`nullable`), referenced with `$ref`.

The description of an operation is recorded where the route is defined
(`@docs.operation(...)`, with `docs.ok`, `docs.errors`, `docs.body`...), and built into
sanic-ext's definitions only when the document is served (`publish`, from the factory,
when DOCS_ENABLED): building them (pydantic JSON schemas, sanic-ext's definition
objects) is a noticeable part of a process's start, and a production app with `/docs`
off never reads them. Nothing here imports sanic-ext until `publish` runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel

from app.fields import SETTING_MARKER
from app.http.errors import ErrorEnvelope, example_code
from app.settings import Settings

if TYPE_CHECKING:
    from sanic_ext import openapi


_REF = "#/components/schemas/{model}"
_ERROR_DESCRIPTIONS = {
    400: "Malformed request: a body that is not JSON, or a request line and headers over "
    "16 KiB (`request_head_too_large`)",
    401: "Missing or invalid credentials",
    403: "Not allowed for this role",
    404: "Not found (also another organisation's object)",
    409: "Conflict with the current state",
    410: "Gone: used, expired or revoked",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed; details name each field",
    429: "Too many attempts; see Retry-After",
    503: "Unavailable for now: the database, or (for `/ready`) a check that failed",
}

BEARER: dict[str, list[str]] = {"bearer": []}


NULL_OBJECT = {"type": "object", "nullable": True, "enum": [None]}


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
            converted["nullable"] = True
        elif len(rest) == 1:
            # `nullable` beside `allOf: [$ref]` does not make the referenced schema accept
            # null (OpenAPI 3.0.3's clarification): say "this object, or null" instead.
            converted["anyOf"] = [*rest, NULL_OBJECT]
        else:
            converted["anyOf"] = rest
            converted["nullable"] = True
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    if "examples" in converted:
        examples = converted.pop("examples")
        if isinstance(examples, list) and examples:
            converted["example"] = examples[0]
    return converted


_REGISTERED: dict[str, dict[str, Any]] = {}
"""The component schemas of the document, by name (handed to sanic-ext by `publish`)."""


def component(
    model: type[BaseModel], mode: Literal["validation", "serialization"] = "serialization"
) -> dict[str, Any]:
    """Register `model` (and the models it uses) as components; return a `$ref`.

    `serialization` describes what we send, `validation` what clients may send.
    """
    for name, converted in _component_schemas(model, mode):
        _REGISTERED[name] = converted
    return {"$ref": _REF.format(model=model.__name__)}


@cache
def _component_schemas(
    model: type[BaseModel], mode: Literal["validation", "serialization"]
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """A model's schema and those it uses, each converted to OpenAPI 3.0: made once per
    model, since every operation names the error envelope again (pydantic builds a
    schema afresh per call: most of the time the document took to build)."""
    schema = model.model_json_schema(ref_template=_REF, mode=mode)
    pairs = [*schema.get("$defs", {}).items(), (model.__name__, schema)]
    return tuple((name, to_openapi30(definition)) for name, definition in pairs)


def document_settings(settings: Settings) -> None:
    """Limits that are settings (the shortest new password) into the document, as the
    validation of this app enforces them. Blueprint modules, and so the components, are
    built once per process; each app built sets its own values before it serves."""
    for schema in _REGISTERED.values():
        for field in schema.get("properties", {}).values():
            setting = field.get(SETTING_MARKER)
            if setting is not None:
                field["minLength"] = getattr(settings, setting)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    schema = component(model, mode="validation")
    return {"content": {"application/json": {"schema": schema}}, "required": True}


def _ok(
    status: int, model: type[BaseModel] | None, description: str
) -> openapi.definitions.Response:
    from sanic_ext import openapi

    if model is None:
        return openapi.definitions.Response(status=status, description=description)
    content = {"application/json": {"schema": component(model)}}
    return openapi.definitions.Response(content, status=status, description=description)


@dataclass(frozen=True)
class Spec:
    """One piece of an operation's description, built when the document is published."""

    build: Callable[[], Any]
    """Makes what sanic-ext's `openapi.definition` takes for it."""
    many: bool = False
    """`build` makes a list, spliced into the surrounding list (query parameters)."""
    error_status: int | None = None
    """The status of an error response (`errors`)."""


def body(model: type[BaseModel]) -> Spec:
    """A required JSON request body of this model."""
    return Spec(lambda: _body(model))


def ok(status: int, model: type[BaseModel] | None, description: str) -> Spec:
    """A successful answer with this model's JSON (`None`: no body)."""
    return Spec(lambda: _ok(status, model, description))


Handler = TypeVar("Handler", bound=Callable[..., Any])


def links(
    status: int, parameter: str, *operations: str, value: str = "$response.body#/id"
) -> Callable[[Handler], Handler]:
    """OpenAPI links on the `status` response: each operation takes its `parameter` from
    this response's `value` (generated clients and stateful fuzzers follow them: create,
    then read, change, delete what was created). Goes above `operation`; published after
    it (sanic-ext's `Response` keeps only content, description and status)."""
    found = {
        operation: {"operationId": operation, "parameters": {parameter: value}}
        for operation in operations
    }

    def add(handler: Handler) -> Handler:
        _described(handler).links[status] = found
        return handler

    return add


@dataclass
class _Description:
    """What a handler's decorators said about it, kept until `publish`."""

    fields: dict[str, Any] | None = None
    links: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    excluded: bool = False
    published: bool = False
    implied: set[int] = dataclasses.field(default_factory=set)
    """Error statuses the handler's decorators answer with (`implies`)."""


_DESCRIPTIONS: dict[Callable[..., Any], _Description] = {}
"""By handler, like sanic-ext's own operation store (handlers are module-level, built
once per process)."""


def _described(handler: Callable[..., Any]) -> _Description:
    found = _DESCRIPTIONS.get(handler)
    if found is None:
        found = _DESCRIPTIONS[handler] = _Description()
    return found


def operation(**fields: Any) -> Callable[[Handler], Handler]:
    """`openapi.definition(**fields)` for this handler, applied when the document is
    published; `Spec`s among the fields (and in their lists) are built then."""

    def record(handler: Handler) -> Handler:
        _described(handler).fields = fields
        return handler

    return record


def implies(handler: Callable[..., Any], *statuses: int) -> None:
    """`handler` (a decorator's wrapper) can answer these error statuses: the
    operation documents them without listing them itself (`@authorized` adds 401 and
    403, `@validate_json` 413, 415 and 422)."""
    _described(handler).implied.update(statuses)


def _implied(handler: Callable[..., Any]) -> set[int]:
    """The statuses implied by every decorator between the route and the function."""
    found: set[int] = set()
    layer: Any = handler
    while layer is not None:
        description = _DESCRIPTIONS.get(layer)
        if description is not None:
            found |= description.implied
        layer = getattr(layer, "__wrapped__", None)
    return found


def _with_implied(responses: list[Any], handler: Callable[..., Any]) -> list[Any]:
    """The operation's responses, with the error statuses its decorators imply."""
    listed = {
        spec.error_status
        for spec in responses
        if isinstance(spec, Spec) and spec.error_status is not None
    }
    implied = _implied(handler)
    if implied <= listed:
        return responses
    others = [spec for spec in responses if not (isinstance(spec, Spec) and spec.error_status)]
    return [*others, *errors(*sorted(listed | implied))]


def excluded(handler: Handler) -> Handler:
    """Not in the document (the HTML pages)."""
    _described(handler).excluded = True
    return handler


def _built(value: Any) -> Any:
    if isinstance(value, Spec):
        return value.build()
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if isinstance(item, Spec) and item.many:
                items.extend(item.build())
            else:
                items.append(_built(item))
        return items
    return value


def _operation_store(openapi: ModuleType) -> Callable[[], Any]:
    """sanic-ext's store of operation descriptions (a singleton; untyped upstream)."""
    store: Callable[[], Any] = openapi.OperationStore
    return store


def publish(app: Any, settings: Settings) -> None:
    """Build the recorded descriptions into sanic-ext's store, once per process, then
    what every operation shares (`finish_operations`) and this app's settings."""
    from sanic_ext import openapi

    operations = _operation_store(openapi)

    for route in app.router.routes:
        description = _DESCRIPTIONS.get(route.handler)
        if description is None or description.published:
            continue
        description.published = True
        handler = route.handler
        if description.excluded:
            openapi.exclude()(handler)
            continue
        store = operations()
        if description.fields is not None:
            recorded = dict(description.fields)
            if "response" in recorded:
                recorded["response"] = _with_implied(recorded["response"], handler)
            fields = {name: _built(value) for name, value in recorded.items()}
            wrapped = openapi.definition(**fields)(handler)
            if wrapped is not handler:
                # `openapi.body` wraps the handler (a coroutine around it, even without
                # validation) and keeps the description under the wrapper; the route
                # serves the handler itself, so the description goes back to it.
                store[handler] = store.pop(wrapped)
        for status, found in description.links.items():
            store[handler].responses[status].fields["links"] = found
    for name, schema in _REGISTERED.items():
        app.ext.openapi.add_component("schemas", name, schema)
    document_settings(settings)
    finish_operations(app)


def finish_operations(app: Any) -> None:
    """What every operation shares, said once for all of them:

    - its id is its handler's name (`list_vendors`, `create_vendor`), not sanic-ext's
      `get~vendors.list_vendors`, so generated clients get plain method names and links
      can name their targets;
    - any request can be answered 400 before it reaches a handler (a request head over
      the size limit, `app.compat.request_limits`), so every operation documents 400.
    """
    from sanic_ext import openapi

    operations = _operation_store(openapi)
    for route in app.router.routes:
        name = getattr(route.handler, "__name__", None)
        if name is None:  # a static file's handler is a partial, and undocumented
            continue
        operation = operations()[route.handler]
        operation.name(name)
        if not operation.responses:  # (not documented: not in the document either)
            continue
        if 400 not in operation.responses:
            (bad_request,) = _errors(400)
            operation.response(400, bad_request.fields["content"], _ERROR_DESCRIPTIONS[400])
        for status, response in operation.responses.items():
            response.fields["headers"] = _headers(int(status))


_REQUEST_ID = {
    "description": "This request's id, also in the log lines about it (a sane "
    "`X-Request-ID` sent with the request is echoed)",
    "schema": {"type": "string"},
}
_RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer"},
}
_CHALLENGE = {
    "description": "How to authenticate: `Bearer` (RFC 6750)",
    "schema": {"type": "string"},
}


def _headers(status: int) -> dict[str, Any]:
    """The headers a response with this status carries (documented, so generated
    clients can read them)."""
    headers: dict[str, Any] = {"X-Request-ID": _REQUEST_ID}
    if status in (429, 503):
        headers["Retry-After"] = _RETRY_AFTER
    if status == 401:
        headers["WWW-Authenticate"] = _CHALLENGE
    return headers


def text(status: int, description: str, media_type: str = "text/plain") -> Spec:
    """A plain-text body (the Prometheus exposition format, for one)."""

    def build() -> openapi.definitions.Response:
        from sanic_ext import openapi

        content = {media_type: {"schema": {"type": "string"}}}
        return openapi.definitions.Response(content, status=status, description=description)

    return Spec(build)


def _error_example(status: int) -> dict[str, Any]:
    """What this status's answer looks like (each status its own example: one shared
    example showed `validation_failed` under 401 and 403)."""
    details: list[dict[str, str]] = []
    if status == 422:
        details = [{"field": "name", "message": "String should have at least 1 character"}]
    return {
        "error": {
            "code": example_code(status).value,
            "message": _ERROR_DESCRIPTIONS[status].split(":")[0].split(";")[0],
            "details": details,
            "request_id": "4b756993a5281cfa00000000000005a9",
        }
    }


def errors(*statuses: int) -> list[Spec]:
    """The error envelope, with an example of its own, for each status."""
    return [Spec(partial(_error, status), error_status=status) for status in statuses]


def _error(status: int) -> openapi.definitions.Response:
    (response,) = _errors(status)
    return response


def _errors(*statuses: int) -> list[openapi.definitions.Response]:
    from sanic_ext import openapi

    schema = component(ErrorEnvelope)
    return [
        openapi.definitions.Response(
            {"application/json": {"schema": schema, "example": _error_example(status)}},
            status=status,
            description=_ERROR_DESCRIPTIONS[status],
        )
        for status in statuses
    ]


def query_parameters(model: type[BaseModel]) -> list[Spec]:
    """Each field of a query model as a documented, optional-or-required query parameter."""
    return [Spec(lambda: _query_parameters(model), many=True)]


def _query_parameters(
    model: type[BaseModel],
) -> list[dict[str, Any] | openapi.definitions.Parameter | str]:
    from sanic_ext import openapi

    make_reference: Callable[[str], Any] = openapi.definitions.Reference  # untyped upstream
    make_schema: Callable[..., Any] = openapi.Schema  # untyped upstream

    schema = model.model_json_schema()
    definitions_by_name = schema.get("$defs", {})
    parameters: list[dict[str, Any] | openapi.definitions.Parameter | str] = []
    for name, field in schema.get("properties", {}).items():
        field_schema = to_openapi30(field)
        field_schema.pop("title", None)
        referenced = None
        for key in ("allOf", "anyOf"):
            refs = [ref for ref in field_schema.pop(key, None) or [] if "$ref" in ref]
            if refs:
                referenced = refs[0]["$ref"].rsplit("/", 1)[-1]
        if "$ref" in field_schema:
            referenced = field_schema.pop("$ref").rsplit("/", 1)[-1]
        if referenced is not None:
            definition = to_openapi30(definitions_by_name[referenced])
            if "enum" in definition:
                # An enum stays one named schema (`VendorStatus`), shared with the bodies
                # that use it: inlined, a generated client gets a second enum per filter.
                _REGISTERED[referenced] = definition
                parameters.append(
                    openapi.definitions.Parameter(
                        name,
                        make_reference(_REF.format(model=referenced)),
                        "query",
                        required=name in schema.get("required", []),
                        description=field.get("description"),
                    )
                )
                continue
            field_schema.update(definition)
        field_schema.pop("title", None)
        # A query parameter is present or absent, never null.
        field_schema.pop("nullable", None)
        if field_schema.get("default", ...) is None:
            del field_schema["default"]
        parameters.append(
            openapi.definitions.Parameter(
                name,
                make_schema(**field_schema),
                "query",
                required=name in schema.get("required", []),
                description=field.get("description"),
            )
        )
    return parameters
