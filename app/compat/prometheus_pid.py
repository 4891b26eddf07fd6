"""Multiprocess metrics without a `getpid` system call on every write.

prometheus-client's multiprocess values compare `os.getpid()` with the pid they were
created in on every `inc()`/`observe()`, to notice a fork. glibc no longer caches the
pid, so that is a system call per metric write, several per request. The library lets
the pid function be chosen (`values.ValueClass = values.MultiProcessValue(fn)`, the hook
discussed in prometheus/client_python#509); ours reads a pid cached per process and
refreshed after a fork. It must be applied before any metric object is created.
"""

from __future__ import annotations

from prometheus_client import values

from app.compat import Workaround
from app.runtime.process import current_pid

WORKAROUND = Workaround(
    name="prometheus_pid",
    package="prometheus-client",
    written_for="0.26.0",
    upstream="https://github.com/prometheus/client_python/issues/509",
    summary="multiprocess values make a getpid system call on every write",
)


def apply() -> None:
    """Use the cached pid for every multiprocess metric created from now on."""
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=current_pid
    )
