from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

from collections import defaultdict
import unicodedata


def email_key(address: str) -> str:
    """As `app.fields.email_key` on the day of this migration (migrations are frozen)."""
    return unicodedata.normalize("NFKC", address).casefold()


class DuplicateAddresses(RuntimeError):
    pass


async def fill_keys(apps: Any, schema_editor: Any) -> None:
    """Fill the normalised addresses. Accounts (or one organisation's vendor contacts)
    whose addresses differ only by case or look-alike characters are not merged behind
    anyone's back: the migration stops and lists them, to be resolved by a person."""
    client = schema_editor.client
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    mark2 = "$2" if client.capabilities.dialect == "postgres" else "?"
    users = await client.execute_query_dict("SELECT id, email FROM users")
    vendors = await client.execute_query_dict(
        "SELECT id, organization_id, contact_email FROM vendors"
    )
    clashes: list[str] = []
    by_key: dict[str, list[str]] = defaultdict(list)
    for row in users:
        by_key[email_key(row["email"])].append(row["email"])
    clashes += [f"users: {sorted(found)}" for found in by_key.values() if len(found) > 1]
    by_vendor_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in vendors:
        key = (str(row["organization_id"]), email_key(row["contact_email"]))
        by_vendor_key[key].append(row["contact_email"])
    clashes += [
        f"vendors of organisation {organization}: {sorted(found)}"
        for (organization, _), found in by_vendor_key.items()
        if len(found) > 1
    ]
    if clashes:
        raise DuplicateAddresses(
            "addresses that are the same once case and look-alike characters are folded; "
            "merge or rename them, then migrate again: " + "; ".join(clashes)
        )
    for row in users:
        await client.execute_query(
            f"UPDATE users SET email_key = {mark} WHERE id = {mark2}",  # noqa: S608
            [email_key(row["email"]), row["id"]],
        )
    for row in vendors:
        await client.execute_query(
            f"UPDATE vendors SET contact_email_key = {mark} WHERE id = {mark2}",  # noqa: S608
            [email_key(row["contact_email"]), row["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0005_teams_audit')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='User',
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An account, its address as typed in `email` and normalised in `email_key`.'},
        ),
        ops.AddField(
            model_name='User',
            name='email_key',
            field=fields.CharField(null=True, unique=True, max_length=320),
        ),
        ops.AddField(
            model_name='Vendor',
            name='contact_email_key',
            field=fields.CharField(null=True, max_length=320),
        ),
        ops.RunPython(fill_keys),
        ops.AddConstraint(
            model_name='Vendor',
            constraint=UniqueConstraint(fields=('organization', 'contact_email_key'), name=None),
        ),
    ]
