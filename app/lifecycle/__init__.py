"""Resources a worker owns, opened and closed by Sanic listeners: one module per
resource, each a small listener pair sharing one priority (start listeners run highest
priority first, stop listeners in reverse, so resources close in reverse order).

| listener             | what happens                                                  |
| -------------------- | ------------------------------------------------------------- |
| main_process_start   | outbox folder checked, migrations (if MIGRATE_ON_START),       |
|                      | metrics directory, protocol                                   |
| main_process_ready   | stop signals guarded against a Sanic race (compat)            |
| reload_process_start | (`--dev`) the reloader says from when an edit reloads          |
| after_reload_trigger | (`--dev`) the reloader says which saved files restart workers |
| before_server_start  | context built, database opened, hashing pool opened           |
| after_server_start   | background jobs through the supervisor; gc.freeze()           |
| before_server_stop   | background jobs asked to stop, awaited with a bound           |
| after_server_stop    | hashing pool and connections closed, report, context dropped  |
"""

from __future__ import annotations

from app.lifecycle import (
    compat,
    context,
    database,
    executor,
    gc_freeze,
    jobs,
    metrics,
    migrations,
    preflight,
    reloader,
    report,
)
from app.settings import Settings
from app.state import OnrampApp


def install(app: OnrampApp, settings: Settings) -> None:
    """Attach every listener pair for these settings."""
    compat.install(app, settings)
    preflight.install(app, settings)
    migrations.install(app, settings)
    metrics.install(app, settings)
    context.install(app, settings)
    database.install(app)
    executor.install(app)
    jobs.install(app, settings)
    gc_freeze.install(app, settings)
    report.install(app)
    reloader.install(app)
