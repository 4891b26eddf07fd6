"""A fresh PostgreSQL database with a realistic data set, written with asyncpg COPY.

10 organisations with 1,000 vendors each, an owner per organisation, invitations in
every state, and a pool of draft vendors in the first organisation that the mixed
scenario invites (each vendor can have one open invitation).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from argon2 import PasswordHasher

from app.fields import email_key

PASSWORD = "bench password 1234"
ORGANIZATIONS = 10
VENDORS_PER_ORG = 1000
INVITE_POOL = 6000
STATUSES = ("pending", "sent", "accepted", "revoked", "expired", "failed")


@dataclass
class Seeded:
    owner_emails: list[str] = field(default_factory=list)
    organization_ids: list[uuid.UUID] = field(default_factory=list)
    vendor_ids: list[uuid.UUID] = field(default_factory=list)  # first organisation's


async def seed(database_url: str) -> Seeded:
    seeded = Seeded()
    password_hash = PasswordHasher().hash(PASSWORD)  # production parameters
    now = datetime.now(UTC)
    organizations, users, memberships, vendors, invitations = [], [], [], [], []
    for org_index in range(ORGANIZATIONS):
        org_id, user_id = uuid.uuid4(), uuid.uuid4()
        email = f"owner{org_index}@bench.example.com"
        seeded.owner_emails.append(email)
        seeded.organization_ids.append(org_id)
        organizations.append((org_id, f"Bench org {org_index}", now))
        # Verified owners (an unverified one could not send the mix's invitations).
        users.append(
            (user_id, email, email_key(email), f"Owner {org_index}", password_hash, now, now)
        )
        memberships.append((uuid.uuid4(), user_id, org_id, "owner", now))
        for n in range(VENDORS_PER_ORG):
            vendor_id = uuid.uuid4()
            created = now - timedelta(minutes=VENDORS_PER_ORG - n)
            status = "draft"
            if n % 10 == 0:
                state = STATUSES[(n // 10) % len(STATUSES)]
                status = {"accepted": "active", "pending": "invited", "sent": "invited"}.get(
                    state, "draft"
                )
                invitations.append(
                    (
                        uuid.uuid4(),
                        org_id,
                        vendor_id,
                        vendor_id if state in ("pending", "sent") else None,
                        f"contact{n}@vendor{org_index}.example.com",
                        hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                        state,
                        now + timedelta(days=7 if state != "expired" else -1),
                        "bounced" if state == "failed" else None,
                        created,
                        created,
                    )
                )
            vendors.append(
                (
                    vendor_id,
                    org_id,
                    f"Vendor {org_index}-{n} Supplies",
                    f"contact{n}@vendor{org_index}.example.com",
                    "+44 20 7946 0000",
                    f"https://vendor{n}.example.com/",
                    ("logistics", "catering", "it", "facilities")[n % 4],
                    "Preferred supplier; invoices monthly." if n % 3 == 0 else None,
                    status,
                    created,
                    created,
                )
            )
            if org_index == 0:
                seeded.vendor_ids.append(vendor_id)
    first_org = seeded.organization_ids[0]
    for n in range(INVITE_POOL):  # older than everything else, so lists don't show them
        created = now - timedelta(days=30, seconds=n)
        vendors.append(
            (
                uuid.uuid4(),
                first_org,
                f"Pool vendor {n}",
                f"pool{n}@pool.example.com",
                None,
                None,
                None,
                None,
                "draft",
                created,
                created,
            )
        )
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "organizations", records=organizations, columns=["id", "name", "created_at"]
        )
        await connection.copy_records_to_table(
            "users",
            records=users,
            columns=[
                "id",
                "email",
                "email_key",
                "full_name",
                "password_hash",
                "created_at",
                "email_verified_at",
            ],
        )
        await connection.copy_records_to_table(
            "memberships",
            records=memberships,
            columns=["id", "user_id", "organization_id", "role", "created_at"],
        )
        await connection.copy_records_to_table(
            "vendors",
            records=vendors,
            columns=[
                "id",
                "organization_id",
                "name",
                "contact_email",
                "phone",
                "website",
                "category",
                "notes",
                "status",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "invitations",
            records=invitations,
            columns=[
                "id",
                "organization_id",
                "vendor_id",
                "open_vendor_id",
                "email",
                "token_hash",
                "status",
                "expires_at",
                "failure_reason",
                "created_at",
                "updated_at",
            ],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return seeded


async def uninvited_vendor_ids(database_url: str, organization_id: uuid.UUID) -> list[str]:
    """Draft vendors of an organisation that were never invited (for the mix)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT v.id FROM vendors v WHERE v.organization_id = $1 AND v.status = 'draft' "
            "AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.vendor_id = v.id) "
            "ORDER BY v.created_at LIMIT 3000",
            organization_id,
        )
        return [str(row["id"]) for row in rows]
    finally:
        await connection.close()


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    asyncio.run(seed(sys.argv[1]))
