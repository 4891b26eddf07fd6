"""The auto-reloader (`--dev`) says when it starts watching and what each reload is for.

Sanic's reloader is a process of its own that imports the app, then takes every watched
file's modification time on its first scan and reloads the workers when a later scan
finds a newer one. It gets there a second or more after the workers serve (it imports
the app in parallel with them): an edit saved before that first scan becomes its
baseline and reloads nothing, silently. The first line, logged by the reloader just
before its first scan, tells a developer (and `tests/e2e/test_operations.py`) from when
an edit counts. Sanic reports a restart only at DEBUG; the second line says at INFO which
saved files restart the workers, once per restart, so a developer sees that an edit was
taken (and a test can count restarts instead of guessing how long one takes).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection

from app.state import OnrampApp

logger = logging.getLogger("onramp.lifecycle")

RELOADING = "auto-reload: restarting the workers for"


def install(app: OnrampApp) -> None:
    app.reload_process_start(_watching)
    app.after_reload_trigger(_reloading)


def _watching(app: OnrampApp) -> None:
    logger.info("auto-reload: watching for changes; edits saved from now on reload the workers")


def _reloading(app: OnrampApp, *, changed: Collection[str] = ()) -> None:
    # Sanic passes `changed` by keyword; its type for this listener takes the app alone.
    logger.info("%s %s", RELOADING, ", ".join(sorted(map(_shown, changed))))


def _shown(path: str) -> str:
    """A changed file as the developer knows it: relative to where they started the server."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
