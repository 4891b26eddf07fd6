"""Migrations keep existing data: rows written under an older schema read the same after.

Each test migrates a fresh database to an older migration, writes rows as that schema
had them (plain SQL, as an older release would have), migrates to the latest, and
reads the result.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from app.compat import tortoise_sqlite_fk_column
from app.runtime.db import tortoise_config
from app.settings import load_settings
from tests.support import databases


def migrate_to(url: str, target: str | None = None) -> None:
    async def run() -> None:
        settings = load_settings({"APP_ENV": "testing"}, DATABASE_URL=url)
        async with TortoiseContext():
            await migrate_api(config=tortoise_config(settings, pool_max=1), target=target)

    databases.run(run())


Statement = tuple[str, tuple[Any, ...]]
NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)


def organization_row(org: str) -> Statement:
    """An organisation as every schema from 0001 on stores it."""
    return ("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)", (org, "Acme", NOW))


def user_row(user: str, email: str, full_name: str = "Someone") -> Statement:
    """A user as the schemas before 0006 (no normalised address) store it."""
    return (
        "INSERT INTO users (id, email, full_name, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (user, email, full_name, "x", NOW),
    )


def vendor_row(vendor: str, org: str, status: str) -> Statement:
    """A vendor as every schema from 0001 on stores it (its contact's address included)."""
    return (
        "INSERT INTO vendors (id, organization_id, name, contact_email, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (vendor, org, "Bolt", "vera@v.example.com", status, NOW, NOW),
    )


def execute(url: str, statements: list[Statement]) -> list[list[Any]]:
    """Run `?`-placeholder statements; return each one's rows."""
    if url.startswith("sqlite://"):

        def plain(value: Any) -> Any:  # SQLite keeps timestamps as text
            return str(value) if isinstance(value, datetime) else value

        with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as connection, connection:
            return [
                connection.execute(sql, tuple(map(plain, args))).fetchall()
                for sql, args in statements
            ]

    async def run() -> list[list[Any]]:
        connection = await asyncpg.connect(url)
        try:
            results = []
            for sql, args in statements:
                numbered = sql
                for n in range(1, sql.count("?") + 1):
                    numbered = numbered.replace("?", f"${n}", 1)
                results.append([list(row) for row in await connection.fetch(numbered, *args)])
            return results
        finally:
            await connection.close()

    return databases.run(run())


def test_0003_moves_vendor_contacts_and_outbox_references(empty_database_url: str) -> None:
    migrate_to(empty_database_url, "models.0002_invitations_outbox")
    org, user, vendor, invitation = (str(uuid.uuid4()) for _ in range(4))
    execute(
        empty_database_url,
        [
            organization_row(org),
            user_row(user, "vera@v.example.com", "Vera"),
            vendor_row(vendor, org, "active"),
            (
                "INSERT INTO memberships (id, user_id, organization_id, role, vendor_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), user, org, "vendor", vendor, NOW),
            ),
            (
                "INSERT INTO invitations (id, organization_id, vendor_id, email, token_hash, "
                "status, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (invitation, org, vendor, "vera@v.example.com", "h" * 64, "pending", NOW, NOW, NOW),
            ),
            (
                "INSERT INTO outbox_emails (invitation_id, kind, to_address, message_id, "
                "context, status, attempts, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invitation,
                    "invitation",
                    "vera@v.example.com",
                    "<m@x>",
                    "{}",
                    "queued",
                    0,
                    NOW,
                    NOW,
                ),
            ),
        ],
    )
    migrate_to(empty_database_url)
    contact, reference = execute(
        empty_database_url,
        [
            ("SELECT CAST(contact_user_id AS VARCHAR(36)) FROM vendors", ()),
            ("SELECT CAST(ref_id AS VARCHAR(36)), ref_version FROM outbox_emails", ()),
        ],
    )
    assert [list(row) for row in contact] == [[user]]
    assert [list(row) for row in reference] == [[invitation, "h" * 64]]
    # The old columns are gone on every database.
    for table, column in (("memberships", "vendor_id"), ("outbox_emails", "invitation_id")):
        with pytest.raises(Exception, match=column):
            execute(empty_database_url, [(f"SELECT {column} FROM {table}", ())])  # noqa: S608 (constants)


@pytest.mark.backends("sqlite")
def test_tortoise_alone_keeps_a_removed_foreign_keys_column_on_sqlite(
    empty_database_url: str,
) -> None:
    """What `app/compat/tortoise_sqlite_fk_column.py` is for: without its step, 0003's
    `RemoveField` leaves `memberships.vendor_id` in place on SQLite. Fails the day
    tortoise-orm drops the column itself (then delete the workaround)."""
    migrate_to(empty_database_url, "models.0002_invitations_outbox")
    tortoise_sqlite_fk_column.set_enabled(False)
    try:
        migrate_to(empty_database_url, "models.0003_contacts_on_vendors_generic_outbox")
    finally:
        tortoise_sqlite_fk_column.set_enabled(True)
    (columns,) = execute(empty_database_url, [("PRAGMA table_info(memberships)", ())])
    assert "vendor_id" in [row[1] for row in columns]


def test_0004_existing_invitations_are_vendor_invitations_and_users_verified(
    empty_database_url: str,
) -> None:
    migrate_to(empty_database_url, "models.0003_contacts_on_vendors_generic_outbox")
    org, user, vendor, invitation = (str(uuid.uuid4()) for _ in range(4))
    execute(
        empty_database_url,
        [
            organization_row(org),
            user_row(user, "olive@acme.example.com", "Olive"),
            vendor_row(vendor, org, "invited"),
            (
                "INSERT INTO invitations (id, organization_id, vendor_id, email, token_hash, "
                "status, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (invitation, org, vendor, "vera@v.example.com", "h" * 64, "sent", NOW, NOW, NOW),
            ),
        ],
    )
    migrate_to(empty_database_url)
    kinds, verified = execute(
        empty_database_url,
        [
            ("SELECT kind, role, invited_by_id FROM invitations", ()),
            ("SELECT email_verified_at IS NOT NULL FROM users", ()),
        ],
    )
    assert [list(row) for row in kinds] == [["vendor", "vendor", None]]
    assert [bool(row[0]) for row in verified] == [True]


def test_0005_invitations_outlive_their_vendor_and_the_audit_table_exists(
    empty_database_url: str,
) -> None:
    migrate_to(empty_database_url, "models.0004_sessions_passwords_invitation_kinds")
    org, vendor, invitation = (str(uuid.uuid4()) for _ in range(3))
    execute(
        empty_database_url,
        [
            organization_row(org),
            vendor_row(vendor, org, "invited"),
            (
                "INSERT INTO invitations (id, organization_id, vendor_id, open_vendor_id, email, "
                "token_hash, status, expires_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invitation,
                    org,
                    vendor,
                    vendor,
                    "vera@v.example.com",
                    "h" * 64,
                    "revoked",
                    NOW,
                    NOW,
                    NOW,
                ),
            ),
        ],
    )
    migrate_to(empty_database_url)
    enforce_foreign_keys = (
        [("PRAGMA foreign_keys = ON", ())] if empty_database_url.startswith("sqlite://") else []
    )
    *_, kept, events = execute(
        empty_database_url,
        [
            *enforce_foreign_keys,
            ("DELETE FROM vendors WHERE organization_id = ?", (org,)),
            ("SELECT kind, vendor_id, open_email FROM invitations", ()),
            ("SELECT COUNT(*) FROM audit_events", ()),
        ],
    )
    # The vendor's deletion kept the invitation (ON DELETE SET NULL on both databases).
    assert [list(row) for row in kept] == [["vendor", None, None]]
    assert [list(row) for row in events] == [[0]]


def _users_at_0005(url: str, emails: list[str]) -> None:
    migrate_to(url, "models.0005_teams_audit")
    execute(url, [user_row(str(uuid.uuid4()), email) for email in emails])


def test_0006_fills_normalised_addresses(empty_database_url: str) -> None:
    _users_at_0005(empty_database_url, ["Alice@Example.com", "bob@example.com"])
    migrate_to(empty_database_url)
    [keys] = execute(
        empty_database_url, [("SELECT email, email_key FROM users ORDER BY email", ())]
    )
    assert [list(row) for row in keys] == [
        ["Alice@Example.com", "alice@example.com"],
        ["bob@example.com", "bob@example.com"],
    ]


def test_0006_reports_addresses_that_would_merge_and_changes_nothing(
    empty_database_url: str,
) -> None:
    _users_at_0005(empty_database_url, ["alice@example.com", "ALICE@example.com"])
    with pytest.raises(Exception, match=r"ALICE@example.com.*alice@example.com"):
        migrate_to(empty_database_url)
    [users] = execute(empty_database_url, [("SELECT email FROM users ORDER BY email", ())])
    assert [row[0] for row in users] == ["ALICE@example.com", "alice@example.com"]
