"""Onramp: a vendor-onboarding JSON API on Sanic and Tortoise ORM.

This package's `__init__` imports nothing, so `import app.settings` (operator commands,
Tortoise's CLI) loads neither Sanic nor Tortoise. The factory lives in `app.factory`;
`from app import create_app` still works, importing it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from app.factory import create_app

        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
