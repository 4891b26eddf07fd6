"""JSON log records skip the caller's source-line lookup.

The stdlib walks the stack for every record to fill `pathname`/`lineno` unless
`logging._srcfile` is None; the logging HOWTO's "Optimization" section documents exactly
this switch (https://docs.python.org/3/howto/logging.html#optimization). Our JSON lines
print no source location, so production turns it off; text lines keep it.
"""

from __future__ import annotations

import logging

from app.compat import Workaround

WORKAROUND = Workaround(
    name="logging_srcfile",
    package="python",
    written_for="3.11",
    upstream="https://docs.python.org/3/howto/logging.html#optimization",
    summary="a stack walk per log record for a source line the JSON format never prints",
)

_ORIGINAL = logging._srcfile


def apply(find_callers: bool) -> None:
    """Look up the calling source line for each record (text) or not (JSON)."""
    logging._srcfile = _ORIGINAL if find_callers else None
