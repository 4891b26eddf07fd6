"""The probes' paths: called every few seconds by load balancers and orchestrators.

The liveness probe is answered with its request id and nothing else the app adds to a
response; neither probe is logged or counted in the metrics (LOG_PROBES puts all that
back): a line and a count each time would fill the log and the metrics with nothing.
"""

from __future__ import annotations

LIVENESS = "/health"
READINESS = "/ready"
PROBES = (LIVENESS, READINESS)
