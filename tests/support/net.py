"""Loopback helpers shared by the tests and the benchmarks."""

from __future__ import annotations

import itertools
import os
import re
import socket
from pathlib import Path

BLOCK = 1000
"""Ports per process: each pytest-xdist worker (and the controller) has its own block."""


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _block_start() -> int:
    """Below the kernel's ephemeral range, one block per xdist worker ("gw3": the fourth
    block after the controller's): two test processes never pick the same port."""
    found = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    blocks = max(1, (_ephemeral_low() - 10_000) // BLOCK)
    index = (int(found.group(1)) + 1) % blocks if found else 0
    return 10_000 + index * BLOCK


_candidates = itertools.cycle(range(_block_start(), _block_start() + BLOCK))


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1), for a server about to start.

    Not the kernel's pick (binding port 0): that comes from the ephemeral range, where
    any outgoing connection (the load tests open thousands) may take it before the
    server binds it; and two test processes could be handed the same one in turn.
    Checked without SO_REUSEADDR, so a port still in TIME_WAIT is passed over too."""
    for port in itertools.islice(_candidates, BLOCK):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_block_start()}-{_block_start() + BLOCK - 1}")
