"""Start-up problems an operator can fix end with one line that names the setting and
the fix, and exit code 2, from the server (`sanic server:app`) and from
`python -m app migrate` alike; no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.net import free_port
from tests.support.server import ROOT, SANIC

EXIT_CONFIGURATION = 2


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "development", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def server(port: int | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return run([str(SANIC), "server:app", "--port", str(port or free_port())], **env)


def migrate(**env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "app", "migrate"], **env)


def our_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if "onramp:" in line]


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_CONFIGURATION, output
    assert "Traceback" not in output, output
    (line,) = our_lines(result)
    for word in words:
        assert word in line, line
    return line


def test_a_database_that_refuses_connections(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgres://onramp:secret-password@127.0.0.1:{port}/onramp"
    env = {"DATABASE_URL": url, "OUTBOX_DIR": str(tmp_path)}
    for result in (server(**env), migrate(**env)):
        line = assert_refused(result, "DATABASE_URL=postgres://***@127.0.0.1", "cannot reach")
        assert "secret-password" not in line


@pytest.mark.backends("postgres")
def test_a_database_that_does_not_exist(backend: str, tmp_path: Path) -> None:
    base = databases.POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    env = {"DATABASE_URL": f"{base}/onramp_missing_database", "OUTBOX_DIR": str(tmp_path)}
    for result in (server(**env), migrate(**env)):
        assert_refused(result, "'onramp_missing_database' does not exist", "createdb")


def test_an_outbox_folder_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {
        "DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
        "OUTBOX_DIR": str(blocker / "mail"),
    }
    assert_refused(server(**env), "OUTBOX_DIR=", "SMTP_HOST")


def test_a_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = server(
            port, DATABASE_URL=f"sqlite://{tmp_path / 'db.sqlite3'}", OUTBOX_DIR=str(tmp_path)
        )
    assert_refused(result, f"127.0.0.1:{port} is already in use", "--port")


def test_a_setting_that_does_not_validate() -> None:
    for result in (server(DB_POOL_MAX="many"), migrate(DB_POOL_MAX="many")):
        assert_refused(result, "DB_POOL_MAX")
