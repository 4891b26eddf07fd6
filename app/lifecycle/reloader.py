"""The auto-reloader (`--dev`) says when it starts watching.

Sanic's reloader is a process of its own that imports the app, then takes every watched
file's modification time on its first scan and reloads the workers when a later scan
finds a newer one. It gets there a second or more after the workers serve (it imports
the app in parallel with them): an edit saved before that first scan becomes its
baseline and reloads nothing, silently. This line, logged by the reloader just before
its first scan, tells a developer (and `tests/e2e/test_operations.py`) from when an
edit counts.
"""

from __future__ import annotations

import logging

from app.http.types import OnrampApp

logger = logging.getLogger("onramp.lifecycle")


def install(app: OnrampApp) -> None:
    app.reload_process_start(_watching)


def _watching(app: OnrampApp) -> None:
    logger.info("auto-reload: watching for changes; edits saved from now on reload the workers")
