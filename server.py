"""What the sanic CLI serves: `sanic server:app` (or `sanic server:create_app --factory`)."""

import sys

from app.factory import create_app
from app.runtime.startup import EXIT_CONFIGURATION
from app.settings import SettingsError

try:
    app = create_app()
except SettingsError as error:
    print(f"onramp: refusing to start: {error}", file=sys.stderr)  # noqa: T201
    sys.exit(EXIT_CONFIGURATION)

__all__ = ["app", "create_app"]
