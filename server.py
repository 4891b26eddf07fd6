"""What the sanic CLI serves: `sanic server:app` (or `sanic server:create_app --factory`)."""

import sys

from app.factory import create_app
from app.settings import SettingsError

try:
    app = create_app()
except SettingsError as error:
    sys.exit(f"onramp: refusing to start: {error}")

__all__ = ["app", "create_app"]
