"""sanic-ext's OpenAPI definitions keep the same fields with the faster guard
(`app/compat/sanic_ext_guard.py`); the document tests check the whole document."""

from __future__ import annotations

import inspect

from sanic_ext.extensions.openapi import definitions, types

from app.compat import sanic_ext_guard


def definition_classes() -> list[type[types.Definition]]:
    found = [
        cls
        for module in (types, definitions)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, types.Definition) and cls.__dict__.get("guard") is None
    ]
    assert len(found) > 20  # Response, MediaType, Parameter, Schema and its kinds, ...
    return found


def test_keeps_exactly_the_fields_sanic_ext_keeps() -> None:
    for cls in definition_classes():
        instance = object.__new__(cls)
        names = set(types._properties(instance)) | {
            "content",
            "status",
            "description",
            "schema",
            "example",
            "required",
            "x-extension",
            "not-a-field",
            "_private",
        }
        fields = {name: object() for name in names}
        assert sanic_ext_guard.guard(instance, fields) == sanic_ext_guard._ORIGINAL(
            instance, fields
        ), cls


def test_is_what_definitions_use_once_the_app_is_built() -> None:
    sanic_ext_guard.apply()
    assert types.Definition.guard is sanic_ext_guard.guard
    response = definitions.Response({"application/json": {}}, status=200, description="ok")
    assert response.fields == {
        "content": {"application/json": {}},
        "status": 200,
        "description": "ok",
    }
    sanic_ext_guard.apply(enabled=False)
    assert types.Definition.guard is sanic_ext_guard._ORIGINAL
    sanic_ext_guard.apply()
