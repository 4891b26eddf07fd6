"""JSON log lines stay one line each under the sanic CLI.

`python -m sanic` (the `sanic` command) calls `tracerite.load()` at import, in the main
process and, through the spawn start method, in every worker. Among its hooks it
replaces `logging.StreamHandler.emit` for the whole process, so any record with an
exception is printed as TraceRite's multi-line box around the formatted line, and the
formatter's own exception output is dropped: in production 138 error records became
1,122 lines that no JSON parser reads. With JSON logs we put the standard `emit` and
excepthooks back; text logs (development) keep TraceRite's pretty output.
"""

from __future__ import annotations

import sys

from app.compat import Workaround

WORKAROUND = Workaround(
    name="tracerite_json_logs",
    package="tracerite",
    written_for="2.6.5",
    upstream="docs/upstream/sanic-cli-tracerite-patches-logging.md",
    summary="the sanic CLI's TraceRite turns each logged exception into a multi-line box",
    shown_by="tests/test_upstream_still_broken.py::test_the_sanic_cli_replaces_every_stream_handlers_emit",
)


def apply(pretty: bool) -> None:
    """Keep TraceRite's output for text logs; restore plain logging for JSON logs."""
    tracerite = sys.modules.get("tracerite")
    if tracerite is None or pretty:  # not run by the sanic CLI, or development
        return
    tracerite.unload_logging_capture()
    tracerite.unload_hooks()
