"""Many histogram observations added at once.

prometheus-client has no bulk `observe`: the maintainers declined one
(prometheus/client_python#733, #911, PR #1124) and point to custom collectors, which in
multiprocess mode see only the scraping worker's own numbers. Onramp adds up a worker's
request latencies in memory and writes them to the metrics in batches
(`app.observability.metrics.RequestTally`); writing a batch into a histogram child means
adding to its sum and to each bucket's count, which `observe` does one observation at a
time through the child's `_sum` and `_buckets` values. Those two attributes are the
library's internals, so this module is the only place that touches them, and
`tests/test_metrics_tally.py` checks that a batch written here reads exactly like the
same observations made one by one.

Switched off (`COMPAT_DISABLED=prometheus_bulk`), every request is observed as it is
answered, through the public API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.compat import Workaround

WORKAROUND = Workaround(
    name="prometheus_bulk",
    package="prometheus-client",
    written_for="0.26.0",
    upstream="https://github.com/prometheus/client_python/issues/733",
    summary="a histogram takes observations one at a time only",
    shown_by="tests/test_upstream_still_broken.py::test_prometheus_histograms_take_one_observation_at_a_time",
)


def add_observations(child: Any, total: float, bucket_counts: Sequence[int]) -> None:
    """Add observations summing to `total`, `bucket_counts[i]` of them in the i-th
    bucket of the child's upper bounds (the last one is +Inf), as `observe` would."""
    child._sum.inc(total)
    buckets = child._buckets
    for index, count in enumerate(bucket_counts):
        if count:
            buckets[index].inc(count)
