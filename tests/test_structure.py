"""The shape of the code: what importing a module drags in, and what the main process
(which builds the app but never serves) loads. The import contracts between packages
are checked by `lint-imports` (pyproject.toml), which `make lint` runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(statement: str, **env: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "testing", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_importing_settings_loads_neither_sanic_nor_tortoise() -> None:
    loaded = loaded_after("import app.settings")
    assert not {"sanic", "sanic_ext", "tortoise", "prometheus_client"} & loaded
    assert {m for m in loaded if m.startswith("app")} == {"app", "app.settings"}


def test_building_the_app_loads_no_orm_no_hasher_no_mail_client() -> None:
    """The main process imports the factory and builds the app; only workers open the
    database, hash passwords or send mail, so only they import what does that."""
    loaded = loaded_after("import server")
    heavy = {"tortoise", "asyncpg", "aiosqlite", "argon2", "nacl", "aiosmtplib"}
    assert heavy & loaded == set()
    assert "app.context" not in loaded
