"""Before/after on the same machine in the same run: `python -m bench.ab --baseline REF`.

Both commits (`--baseline`, and `--after`, HEAD by default: commit what you measure)
are checked out in temporary git worktrees side by side, so neither side runs from a
different place (both `sanic server:app`, production profile, same workers, one
database migrated and seeded by the working tree). Each round drives both with the
same wrk load in alternating order; the report gives medians, the ratio of medians,
and the median of each round's after/before ratio (adjacent runs share the machine's
drift, so many short rounds resolve smaller differences than a few long ones). Both
sides must be able to serve the measured endpoints on the current schema. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import seed as seeding
from bench.__main__ import RESULTS, production_env
from bench.report import runs_table
from bench.wrk import Load, Run, measured
from tests.support import databases
from tests.support.server import ROOT, ServerProcess

SCENARIOS = {
    "health": ("get", {"BENCH_PATH": "/health"}),
    "vendors_list_gzip": ("get", {"BENCH_GZIP": "1", "BENCH_PATH": "/api/v1/vendors?limit=50"}),
    "vendor_get": ("get", {"BENCH_PATH": "/api/v1/vendors/{id}"}),
}


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A detached checkout of `ref`, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="onramp-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
        )
        shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("--baseline", required=True, help="git ref to compare against")
    parser.add_argument("--after", default="HEAD", help="git ref to compare (default HEAD)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = RESULTS / f"{stamp}-ab-logs"
    logs.mkdir(parents=True)
    runs: list[Run] = []
    with (
        databases.fresh_postgres_database("onramp_ab") as database_url,
        worktree(args.baseline) as baseline_root,
        worktree(args.after) as after_root,
        ExitStack() as stack,
    ):
        databases.migrate_url(database_url)
        seeded = asyncio.run(seeding.seed(database_url))
        env = production_env(database_url, logs, None)
        after = stack.enter_context(
            ServerProcess(
                {**env, "PYTHONPATH": str(after_root)},
                workers=args.workers,
                log_path=logs / "after.log",
                cwd=after_root,
            )
        )
        before = stack.enter_context(
            ServerProcess(
                {**env, "PYTHONPATH": str(baseline_root)},
                workers=args.workers,
                log_path=logs / "before.log",
                cwd=baseline_root,
            )
        )
        after.wait_ready()
        before.wait_ready()
        token = httpx.post(
            f"{after.url}/api/v1/auth/login",
            timeout=10,
            json={"email": seeded.owner_emails[0], "password": seeding.PASSWORD},
        ).json()["access_token"]
        ids_file = logs / "vendor-ids.txt"
        ids_file.write_text("\n".join(str(i) for i in seeded.vendor_ids) + "\n")
        auth = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
        contestants = [(f"before {args.baseline}", before), ("after", after)]
        for name, server in contestants:  # warm-up, not reported
            for script, extra in SCENARIOS.values():
                measured(
                    name, "warm-up", server.url, [], script, {**auth, **extra},
                    Load(2.0, 16, args.threads),
                )  # fmt: skip
        for round_number in range(args.rounds):
            for connections in args.connections:
                load = Load(args.duration, connections, args.threads)
                for scenario in args.scenarios:
                    script, extra = SCENARIOS[scenario]
                    order = contestants if round_number % 2 == 0 else contestants[::-1]
                    for name, server in order:
                        runs.append(
                            measured(
                                name,
                                f"{scenario} c{connections}",
                                server.url,
                                server.worker_processes(),
                                script,
                                {**auth, **extra},
                                load,
                            )
                        )
            print(f"round {round_number + 1}/{args.rounds} done")
    lines = [f"# A/B {args.baseline} -> {args.after}, {stamp}", "", *runs_table(runs), ""]
    lines += [
        "| scenario | after / before: ratio of medians | median of paired rounds | each round |",
        "| --- | ---: | ---: | --- |",
    ]
    before_name = f"before {args.baseline}"
    for scenario in dict.fromkeys(r.scenario for r in runs):
        mine = [r for r in runs if r.scenario == scenario]
        medians = {
            name: statistics.median(r.rps for r in mine if r.app == name) for name, _ in contestants
        }
        rounds = [
            a.rps / b.rps
            for a, b in zip(
                (r for r in mine if r.app == "after"),
                (r for r in mine if r.app == before_name),
                strict=True,
            )
        ]
        ratio = medians["after"] / medians[before_name]
        paired = statistics.median(rounds)
        each = ", ".join(f"{x:.2f}" for x in rounds)
        lines.append(f"| {scenario} | {ratio:.3f} | {paired:.3f} | {each} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{stamp}-ab.md").write_text(text)
    (RESULTS / f"{stamp}-ab.json").write_text(json.dumps([asdict(r) for r in runs], indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
