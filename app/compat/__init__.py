"""Workarounds for behaviour of the libraries we run on, one module each.

Every module here:

- declares `WORKAROUND`: what it works around, the exact version of the package it was
  written against, and the upstream issue (or our upstream-ready report under
  `docs/upstream/`);
- can be switched off by name with `COMPAT_DISABLED=<name>,...`;
- names the test that shows the library's own behaviour (`shown_by`), which fails the
  day an upgrade fixes it, so the workaround can be deleted;
- is checked by `tests/test_compat.py`, which fails loudly when the installed version
  differs from the one the workaround was written for, so it is looked at again.

Nothing here is imported until it is applied: this package's `__init__` only lists names.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass

MODULES = (
    "manager_signals",
    "manager_stop_at_start",
    "worker_stop_at_start",
    "graceful_shutdown",
    "request_limits",
    "routing_allow",
    "tortoise_sqlite_fk_column",
    "prometheus_bulk",
    "sanic_ext_no_content",
    "tracerite_json_logs",
)


@dataclass(frozen=True)
class Workaround:
    name: str
    """The name `COMPAT_DISABLED` takes (the module's name)."""
    package: str
    """The distribution whose behaviour this works around (`python` for the stdlib)."""
    written_for: str
    """The exact version it was written and checked against."""
    upstream: str
    """The upstream issue, or our report under docs/upstream/."""
    summary: str
    shown_by: str
    """The test (`file::name`) that shows the library's own behaviour: it fails the day
    an upgrade fixes it, and then this workaround goes."""

    def installed_version(self) -> str:
        if self.package == "python":  # the stdlib changes with minor versions
            import platform

            return ".".join(platform.python_version_tuple()[:2])
        return importlib.metadata.version(self.package)


def workarounds() -> list[Workaround]:
    """Every workaround, importing each module (for the version check and the docs)."""
    found: list[Workaround] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        found.append(module.WORKAROUND)
    return found
