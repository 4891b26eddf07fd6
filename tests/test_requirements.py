"""Every runtime requirement is pinned exactly for deploys, and the pins resolve together."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def test_every_runtime_requirement_is_pinned_exactly() -> None:
    pins = {}
    for line in requirement_lines(ROOT / "requirements_production.txt"):
        name, sep, version = line.partition("==")
        assert sep, f"{line} is not an exact pin"
        assert version, line
        assert not re.search(r"[<>~!*,;]", version), line
        pins[canonical(name)] = version
    for line in requirement_lines(ROOT / "requirements.txt"):
        match = NAME.match(line)
        assert match, line
        assert canonical(match.group(1)) in pins, f"{line} is not pinned"


@pytest.mark.e2e
def test_pins_resolve_together() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--no-input",
            "-r",
            str(ROOT / "requirements_production.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
