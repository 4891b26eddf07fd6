"""The factory, lazy blueprint registration and what importing `server` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.http.registry import BlueprintLoadError
from app.settings import Settings
from tests.conftest import make_app
from tests.support.client import ApiClient

pytestmark = pytest.mark.any_backend  # the database is incidental here

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "testing", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_disabled_blueprint_module_is_never_imported() -> None:
    code = (
        "import json, sys, server\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('blueprints'))))"
    )
    result = run_python(code, BLUEPRINTS="blueprints.health")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "blueprints",
        "blueprints.health",
    ]


def test_importing_server_does_no_io(tmp_path: Path) -> None:
    database = tmp_path / "never" / "created.sqlite3"
    result = run_python("import server", DATABASE_URL=f"sqlite://{database}")
    assert result.returncode == 0, result.stderr
    assert not database.parent.exists()


def test_unknown_blueprint_fails_startup_naming_it(settings: Settings) -> None:
    with pytest.raises(BlueprintLoadError, match=r"blueprints\.nonexistent"):
        create_app(settings=settings.replace(BLUEPRINTS=("blueprints.nonexistent",)))


def test_module_without_blueprint_fails_startup(settings: Settings) -> None:
    with pytest.raises(BlueprintLoadError, match=r"has no `bp`"):
        create_app(settings=settings.replace(BLUEPRINTS=("app.settings",)))


def test_disabled_blueprint_routes_answer_404(settings: Settings) -> None:
    with ApiClient(make_app(settings.replace(BLUEPRINTS=()))) as client:
        response = client.get("/health")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_production_server_refuses_weak_secret_with_clear_message() -> None:
    result = run_python("import server", APP_ENV="production", SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_factory_is_keyword_only_for_the_sanic_cli() -> None:
    with pytest.raises(TypeError):
        create_app(object())  # type: ignore[misc]  # what the CLI tries first
