"""Every framework workaround names what it works around and the exact version it was
written for. When an upgrade changes that version, this fails: re-check the module
against its upstream issue, then update `written_for` (or delete the workaround)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.compat import MODULES, Workaround, workarounds
from app.settings import Settings
from tests.conftest import make_app

pytestmark = pytest.mark.any_backend  # the database is incidental here

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("workaround", workarounds(), ids=lambda w: w.name)
def test_written_for_the_installed_version(workaround: Workaround) -> None:
    installed = workaround.installed_version()
    assert installed == workaround.written_for, (
        f"{workaround.package} is {installed}, but app/compat/{workaround.name}.py was "
        f"written for {workaround.written_for}: re-check it against {workaround.upstream}"
    )


@pytest.mark.parametrize(
    "workaround", [w for w in workarounds() if w.package != "python"], ids=lambda w: w.name
)
def test_written_for_the_version_production_deploys(workaround: Workaround) -> None:
    """The lock CI installs holds production's pins (tests/test_requirements.py): the
    version checked above is the one deployed."""
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements_production.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins.get(workaround.package) == workaround.written_for, workaround.package


@pytest.mark.parametrize("workaround", workarounds(), ids=lambda w: w.name)
def test_names_its_upstream_issue(workaround: Workaround) -> None:
    assert workaround.name in MODULES
    assert workaround.summary
    if "docs/upstream/" in workaround.upstream:
        report = workaround.upstream.split("docs/upstream/", 1)[1].split()[0]
        text = (ROOT / "docs" / "upstream" / report).read_text()
        assert workaround.written_for in text  # the report names the version it was seen on
        index = (ROOT / "docs" / "upstream" / "README.md").read_text()
        assert f"]({report})" in index, f"docs/upstream/README.md does not list {report}"
        assert f"app/compat/{workaround.name}.py" in index
    else:
        assert workaround.upstream.startswith("https://")


def main_process_listeners(settings: Settings) -> list[str]:
    app = make_app(settings)
    return [
        listener.__name__
        for event in ("main_process_start", "main_process_ready")
        for listener in app.listeners.get(event, [])
    ]


def test_sanic_workarounds_can_be_switched_off(settings: Settings) -> None:
    assert {"use_onramp_protocol", "guard_manager_signals"} <= set(main_process_listeners(settings))
    disabled = settings.replace(
        COMPAT_DISABLED=("graceful_shutdown", "request_limits", "manager_signals")
    )
    assert not {"use_onramp_protocol", "guard_manager_signals"} & set(
        main_process_listeners(disabled)
    )


@pytest.mark.parametrize("workaround", workarounds(), ids=lambda w: w.name)
def test_names_the_test_that_shows_the_library_alone(workaround: Workaround) -> None:
    """Each workaround can be deleted the day its library is fixed: a test shows the
    library's own behaviour, and fails that day."""
    path, _, name = workaround.shown_by.partition("::")
    source = (ROOT / path).read_text()
    assert f"def {name}(" in source, workaround.shown_by


def test_at_most_ten_workarounds() -> None:
    """Each is a bug or a missing hook of a library, one module each; more than ten
    means the app fights its framework rather than using it."""
    assert len(MODULES) <= 10
    modules = {path.stem for path in (ROOT / "app" / "compat").glob("*.py")} - {"__init__"}
    assert modules == set(MODULES)
