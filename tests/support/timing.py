"""How late a bounded wait may end before a test calls the bound broken."""

from __future__ import annotations


def deadline(bound: float) -> float:
    """The latest acceptable end of something the code bounds by `bound` seconds: the
    bound plus as much again, and at least half a second more. The margin grows with the
    bound because what delays an answer on a loaded machine (a starved event loop, a
    timer that fires a tick late, a process not scheduled) grows with how long it waits;
    a broken bound, the bug such tests exist for, shows as no answer at all or as one
    after several bounds."""
    return bound + max(bound, 0.5)
