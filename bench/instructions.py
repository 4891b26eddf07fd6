"""Instructions per request, before and after: `python -m bench.instructions --baseline REF`.

Requests per second on a shared 2-core host move by 10-30 % between adjacent runs of
identical code, too much to resolve a few per cent. Instructions executed do not: each
commit (`--baseline`, and `--after`, HEAD by default) is served from its own git
worktree in Sanic's single-process mode under valgrind's callgrind; after a warm-up
the counters are dumped, a fixed number of requests is sent from outside the process,
and the counters are dumped again. The second dump is the cost of exactly those
requests in the server (background jobs are slowed to hourly, so they do not run in
between). Same database, same data, same token, `PYTHONHASHSEED=0`. Loopback only.

Instructions are not time (cache misses, system calls and the database are outside
them), so this complements `bench.ab`; it answers "does the server do more work per
request than before?" with a repeatable number.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import seed as seeding
from bench.__main__ import RESULTS, production_env
from bench.ab import worktree
from tests.support import databases
from tests.support.net import free_port

PYTHON = Path(sys.executable)  # the venv's interpreter (not a shell shim)
PATHS = {
    "health": "/health",
    "vendors_list_gzip": "/api/v1/vendors?limit=50",
    "vendor_get": "/api/v1/vendors/{id}",
}
QUIET = {  # background jobs hourly: the measured window holds requests only
    "DISPATCH_POLL_INTERVAL": "3600",
    "EXPIRY_INTERVAL": "3600",
    "LOG_FLUSH_INTERVAL": "3600",
    "METRICS_MODE": "off",
    "PYTHONHASHSEED": "0",
}


class CallgrindServer:
    """`python -m sanic server:app --single-process` under callgrind, in `root`."""

    def __init__(self, root: Path, env: dict[str, str], out: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = out
        self._log = (out.parent / f"{out.name}.log").open("wb")
        argv = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}.%p",
            str(PYTHON),
            "-m",
            "sanic",
            "server:app",
            "--single-process",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            argv,
            cwd=root,
            env={**os.environ, **env, "PYTHONPATH": str(root)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server under callgrind exited: {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError("server under callgrind did not answer")

    def dump(self) -> int:
        """Dump the counters (reset to zero); return the instructions since the last dump."""
        before = set(self.out.parent.glob(f"{self.out.name}.{self.process.pid}.*"))
        subprocess.run(
            ["callgrind_control", "-d", str(self.process.pid)], check=True, capture_output=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = set(self.out.parent.glob(f"{self.out.name}.{self.process.pid}.*")) - before
            for path in new:
                for line in path.read_text(errors="replace").splitlines():
                    if line.startswith("summary:"):
                        return int(line.split()[1])
            time.sleep(0.2)
        raise TimeoutError("callgrind wrote no dump")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def served(root: Path, env: dict[str, str], out: Path) -> Iterator[CallgrindServer]:
    server = CallgrindServer(root, env, out)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def per_request(
    server: CallgrindServer, path: str, token: str, ids: list[str], count: int
) -> float:
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:

        def send(n: int) -> None:
            for i in range(n):
                response = client.get(path.replace("{id}", ids[i % len(ids)]))
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")

        send(30)  # warm-up: caches, prepared statements, lazy imports
        server.dump()
        send(count)
        return server.dump() / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scenarios", nargs="+", default=list(PATHS), choices=PATHS)
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = RESULTS / f"{stamp}-instructions"
    logs.mkdir(parents=True)
    results: dict[str, dict[str, float]] = {}
    with databases.fresh_postgres_database("onramp_instr") as database_url, ExitStack() as stack:
        databases.migrate_url(database_url)
        seeded = asyncio.run(seeding.seed(database_url))
        ids = [str(i) for i in seeded.vendor_ids[:100]]
        env = {**production_env(database_url, logs, None), **QUIET}
        token = ""
        # The newer side first: it logs in (an older release may not on the current schema).
        for label, ref in (("after", args.after), ("before", args.baseline)):
            root = stack.enter_context(worktree(ref))
            with served(root, env, logs / label) as server:
                if not token:
                    token = httpx.post(
                        f"{server.url}/api/v1/auth/login",
                        json={"email": seeded.owner_emails[0], "password": seeding.PASSWORD},
                        timeout=120,
                    ).json()["access_token"]
                for scenario in args.scenarios:
                    cost = per_request(server, PATHS[scenario], token, ids, args.requests)
                    results.setdefault(scenario, {})[label] = cost
                    print(f"{label} {ref} {scenario}: {cost:,.0f} instructions per request")
    lines = [
        f"# Instructions per request, {args.baseline} -> {args.after}, {stamp}",
        "",
        f"{args.requests} requests per scenario after 30 of warm-up; single process.",
        "",
        "| scenario | before | after | after / before |",
        "| --- | ---: | ---: | ---: |",
    ]
    for scenario, by_label in results.items():
        before, after = by_label["before"], by_label["after"]
        lines.append(f"| {scenario} | {before:,.0f} | {after:,.0f} | {after / before:.3f} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{stamp}-instructions.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
