"""Lazy blueprint registration: only enabled API areas are imported at all.

A disabled area costs nothing (no import, no routes) and its paths answer 404.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from app.state import OnrampApp


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
    add_head_routes(app)
    return names


def add_head_routes(app: OnrampApp) -> None:
    """HEAD on every GET route (RFC 9110 §9.3.2: same status and headers, no body).

    Added here, while the router is still being built, one route each. sanic-ext's
    `HTTP_AUTO_HEAD` adds them after the router went live, re-rendering it once per
    route, at every worker start (and in every test app).
    """
    for route in list(app.router.routes):
        if "GET" in route.methods and "HEAD" not in route.methods:
            local_name = route.name.split(".", 1)[-1].replace(".", "_")
            app.add_route(
                route.handler,
                "/" + route.path,
                methods=["HEAD"],
                name=f"{local_name}_head",
                strict_slashes=route.strict,
                error_format=route.extra.error_format,
            )
