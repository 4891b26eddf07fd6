"""A real PgBouncer (Debian's `pgbouncer`) on loopback, in transaction pooling, in front
of the test PostgreSQL: what a fleet past a few hosts runs.

Started by the test, stopped by it (SIGINT, waited for). PgBouncer refuses to run as
root, so as root (CI) it runs as the `postgres` user; its files live in a folder that
user can read and write.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.support.net import free_port

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

CONFIG = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_idle_timeout = 5
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def available() -> bool:
    return Path(BINARY).exists()


@contextmanager
def pgbouncer(database_url: str, *, pool_size: int = 3) -> Iterator[str]:
    """Run PgBouncer in front of `database_url`'s server; yield the URL through it."""
    parts = urlsplit(database_url)
    listen_port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="onramp-pgbouncer-"))
    config = folder / "pgbouncer.ini"
    config.write_text(
        CONFIG.format(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",  # auth_type=any logs in as this user
            listen_port=listen_port,
            pool_size=pool_size,
            folder=folder,
        )
    )
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:  # "PgBouncer should not run as root"
        shutil.chown(folder, "postgres")
        shutil.chown(config, "postgres")
        # The process itself changes user (not through `runuser`, which does not pass
        # SIGINT on: PgBouncer outlived every test, one orphan per start).
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    process = subprocess.Popen(
        [BINARY, str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **as_user
    )
    try:
        _wait_for_port(listen_port, process, folder)
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{listen_port}"
        yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    finally:
        process.send_signal(signal.SIGINT)  # PgBouncer's "safe shutdown"
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (
                (folder / "pgbouncer.log").read_text()
                if (folder / "pgbouncer.log").exists()
                else ""
            )
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {log}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("pgbouncer did not listen within 10 s")
