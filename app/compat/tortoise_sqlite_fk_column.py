"""A migration that removes a foreign key on SQLite also drops its column.

tortoise-orm 1.1.9's SQLite schema editor rebuilds the table without the relation but
keeps its `<name>_id` column (its `_remake_table` skips the field by its model name,
not by the data field behind it), so the column and its old values stay on SQLite
while PostgreSQL drops them. Migrations that remove a foreign key call `drop_leftover`
right after `RemoveField`; on any other database it does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.compat import Workaround

WORKAROUND = Workaround(
    name="tortoise_sqlite_fk_column",
    package="tortoise-orm",
    written_for="1.1.9",
    upstream="report ready to file: docs/upstream/tortoise-sqlite-remove-fk-keeps-column.md",
    summary="removing a foreign key on SQLite keeps its column",
    shown_by="tests/test_migrations.py::test_tortoise_alone_keeps_a_removed_foreign_keys_column_on_sqlite",
)


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Off only to show Tortoise's own behaviour (`tests/test_migrations.py`): a
    migration run then keeps the column, as tortoise-orm alone does."""
    global _enabled
    _enabled = enabled


def drop_leftover(table: str, column: str) -> Callable[[Any, Any], Awaitable[None]]:
    """A `RunPython` step: drop `table.column` if it is still there on SQLite."""

    async def drop(apps: Any, schema_editor: Any) -> None:
        client = schema_editor.client
        if client.capabilities.dialect != "sqlite" or not _enabled:
            return
        rows = await client.execute_query_dict(f'PRAGMA table_info("{table}")')
        if any(row["name"] == column for row in rows):
            await client.execute_script(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')

    return drop
