"""The environment of third-party tools the tests run as subprocesses."""

from __future__ import annotations

import os

COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")
"""What makes a Python process measure itself (coverage's `patch = ["subprocess"]` sets
the first for every process the suite starts)."""


def tool_env(**extra: str) -> dict[str, str]:
    """The suite's environment for a tool (schemathesis, the client generator, pip, `sanic
    inspect`) that runs none of our code: without coverage, whose tracer would only
    spend the CPU the tests running beside it need."""
    env = {key: value for key, value in os.environ.items() if key not in COVERAGE_VARIABLES}
    env.update(extra)
    return env
