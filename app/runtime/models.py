"""Tables the runtime helpers own (not any one area's)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class RateCounter(Model):
    """Hits of one key (e.g. failed logins of one address) in one fixed time window.

    Counted in the database, so every worker on every host sees the same count; one
    upsert statement counts a hit and returns the new count (`app.runtime.ratelimit`).
    Times are epoch seconds, the same on PostgreSQL and SQLite.
    """

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=400)
    window_start = fields.BigIntField()
    hits = fields.IntField(default=0)
    expires_at = fields.BigIntField(db_index=True)

    class Meta:
        table = "rate_counters"
        unique_together = (("key", "window_start"),)
