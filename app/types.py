"""The app's concrete type, for annotations (Sanic is generic in config and ctx)."""

from types import SimpleNamespace
from typing import TypeAlias

from sanic import Sanic
from sanic.config import Config

OnrampApp: TypeAlias = Sanic[Config, SimpleNamespace]
