"""Every runtime requirement is pinned exactly for deploys, and the pins resolve together;
the test install is a lock that holds those same pins, every other tool pinned exactly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import tool_env

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


def exact_pins(path: Path) -> dict[str, str]:
    """Name -> version of every line of a lock, each of which must be an exact pin."""
    pins = {}
    for line in requirement_lines(path):
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {line} is not an exact pin"
        assert version, line
        assert not re.search(r"[<>~!*,;]", version), line
        pins[canonical(name)] = version
    return pins


def names_in(path: Path) -> set[str]:
    names = set()
    for line in requirement_lines(path):
        match = NAME.match(line)
        assert match, line
        names.add(canonical(match.group(1)))
    return names


def test_every_runtime_requirement_is_pinned_exactly() -> None:
    pins = exact_pins(ROOT / "requirements_production.txt")
    for name in names_in(ROOT / "requirements.txt"):
        assert name in pins, f"{name} is not pinned"


def test_the_test_lock_installs_what_production_deploys() -> None:
    """CI tests the versions production deploys, and every test tool at one version: a
    release upstream changes nothing until `make lock` takes it in."""
    production = exact_pins(ROOT / "requirements_production.txt")
    locked = exact_pins(ROOT / "requirements-dev.lock")
    differ = {
        name: (version, locked.get(name))
        for name, version in production.items()
        if locked.get(name) != version
    }
    assert differ == {}, f"(production, dev lock) versions: {differ}"
    missing = names_in(ROOT / "requirements-dev.txt") - set(locked)
    assert missing == set(), f"in requirements-dev.txt but not locked: {missing} (make lock)"


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
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
