"""This process's id, read once.

`os.getpid()` is a system call (glibc no longer caches it), and the metrics client and
every log record would make it on each request. Workers are spawned, not forked, so
the id is fixed for the life of the module; a forked child reads its own.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _refresh() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_refresh)


def current_pid() -> int:
    return _pid
