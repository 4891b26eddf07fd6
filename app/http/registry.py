"""Lazy blueprint registration: only enabled API areas are imported at all.

A disabled area costs nothing (no import, no routes) and its paths answer 404.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from app.http.types import OnrampApp


class BlueprintLoadError(RuntimeError):
    """An enabled blueprint path that cannot be imported or exports no blueprint."""


def load_blueprint(path: str) -> Blueprint | BlueprintGroup:
    """Import `path` and return its module-level `bp`."""
    try:
        module = importlib.import_module(path)
    except Exception as exc:
        raise BlueprintLoadError(
            f"cannot import blueprint module {path!r} (listed in BLUEPRINTS): {exc!r}"
        ) from exc
    blueprint = getattr(module, "bp", None)
    if not isinstance(blueprint, Blueprint | BlueprintGroup):
        raise BlueprintLoadError(
            f"blueprint module {path!r} (listed in BLUEPRINTS) has no `bp` Blueprint"
        )
    return blueprint


def register_blueprints(app: OnrampApp, paths: Iterable[str]) -> list[str]:
    """Import and register each enabled blueprint, in order; return their names."""
    names: list[str] = []
    for path in dict.fromkeys(paths):  # a path listed twice is registered once
        blueprint = load_blueprint(path)
        app.blueprint(blueprint)
        names.append(path)
    return names
