"""The real `sanic` CLI in a subprocess, on a free loopback port, for end-to-end tests
and the benchmarks.

The process gets its own session, so a test can always end what it started (and only
that) even when an assertion fails halfway.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
SANIC = Path(sys.executable).with_name("sanic")

WITHOUT_DOCS = {"DOCS_ENABLED": "false"}
"""For a server whose test is not about the OpenAPI document (the testing profile serves
one): production's default, and each of its processes then starts without sanic-ext and
without building the document."""


def _limit_fds(limit: int):  # type: ignore[no-untyped-def]
    """What `LimitNOFILE=` does in a systemd unit, for the child about to start."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


class ServerProcess:
    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 2,
        extra_args: tuple[str, ...] = (),
        log_path: Path,
        cwd: Path = ROOT,
        target: str = "server:app",
        port: int | None = None,
        fd_limit: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [str(SANIC), target, "--host", "127.0.0.1", "--port", str(self.port)]
        if workers:
            argv += ["--workers", str(workers)]
        argv += list(extra_args)
        self._log = log_path.open("wb")
        self._client: httpx.Client | None = None
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, "PYTHONWARNINGS": "default", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if fd_limit is None else _limit_fds(fd_limit),
        )

    @property
    def client(self) -> httpx.Client:
        """One HTTP client for this server's probes and a test's requests to it, closed
        with the server. Not `httpx.get`: that builds a client, and its TLS context, per
        call (45 ms of CPU here), so a poll every few milliseconds took a core from the
        very server it waited for."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=5)
        return self._client

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until /health answers and every worker has logged that it is ready.

        Signalling a worker manager before all workers are ready can hang it (sanic #2997).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            if self.output().count("Worker ready") >= max(self.workers, 1):
                try:
                    if self.client.get("/health", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.output()}")

    def wait_first_200(self, timeout: float = 60.0) -> float:
        """Seconds from spawning the process to the first 200 on /health (cold start)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                if self.client.get("/health", timeout=0.5).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.005)
        raise TimeoutError(f"no 200 on /health after {timeout}s:\n{self.output()}")

    def worker_processes(self) -> list[psutil.Process]:
        """The HTTP workers alive now (the Inspector runs as a worker process too; the
        manager leaves replaced workers as zombies)."""
        alive = []
        for line in self.output().splitlines():
            if line.startswith("Inspector"):
                continue
            for pid in re.findall(r"Starting worker \[(\d+)\]", line):
                try:
                    process = psutil.Process(int(pid))
                    if process.status() != psutil.STATUS_ZOMBIE:
                        alive.append(process)
                except psutil.NoSuchProcess:
                    pass
        return alive

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> tuple[int, float]:
        """Signal the main process; return its exit code and how long it took."""
        started = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


LEAK_MARKERS = ("Traceback", "Task was destroyed", "ResourceWarning", "Unclosed", "never awaited")


def leak_markers_in(output: str) -> list[str]:
    return [marker for marker in LEAK_MARKERS if marker in output]


def until(
    condition: Callable[[], object], failure: str, server: ServerProcess, timeout: float = 30
) -> None:
    """Wait for `condition`; fail with `failure` and the server's output after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{failure}:\n{server.output()}"
        time.sleep(0.05)
