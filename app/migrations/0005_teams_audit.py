from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

# Tortoise 1.1.9's AlterField on PostgreSQL changes the column's nullability but keeps
# the old foreign key action (ON DELETE CASCADE); SQLite rebuilds the table and gets
# it right. A deleted vendor's invitations are kept as history, so the constraint is
# replaced by hand on PostgreSQL (tests/test_migrations.py checks both databases).
VENDOR_FK_SET_NULL = (
    "ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_vendor_id_fkey, "
    "ADD CONSTRAINT invitations_vendor_id_fkey FOREIGN KEY (vendor_id) "
    "REFERENCES vendors (id) ON DELETE SET NULL"
)


async def vendor_fk_set_null(apps: Any, schema_editor: Any) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(VENDOR_FK_SET_NULL)


class Migration(migrations.Migration):
    dependencies = [('models', '0004_sessions_passwords_invitation_kinds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('job', fields.CharField(null=True, max_length=64)),
                ('action', fields.CharField(max_length=64)),
                ('target_type', fields.CharField(max_length=32)),
                ('target_id', fields.UUIDField(null=True)),
                ('changes', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=128)),
                ('ip', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at', 'id'], name='audit_org_time'), Index(fields=['organization_id', 'action', 'created_at'], name='audit_org_action'), Index(fields=['organization_id', 'actor_id', 'created_at'], name='audit_org_actor'), Index(fields=['organization_id', 'target_type', 'target_id', 'created_at'], name='audit_org_target'), Index(fields=['created_at'], name='audit_time')], 'pk_attr': 'id', 'table_description': 'One change of state, written in the transaction of the change.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Invitation',
            options={'table': 'invitations', 'app': 'models', 'unique_together': (('organization', 'open_email'),), 'indexes': [Index(fields=['vendor_id', 'created_at'], name='invitations_vendor_created'), Index(fields=['status', 'expires_at'], name='invitations_status_expires'), Index(fields=['organization_id', 'created_at'], name='invitations_org_created')], 'pk_attr': 'id', 'table_description': "An invitation of a vendor's contact (kind `vendor`) or of a teammate."},
        ),
        ops.AlterField(
            model_name='Invitation',
            name='vendor',
            field=fields.ForeignKeyField('models.Vendor', source_field='vendor_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunPython(vendor_fk_set_null),
        ops.AddField(
            model_name='Invitation',
            name='open_email',
            field=fields.CharField(null=True, max_length=320),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organization_id', 'created_at'], name='invitations_org_created'),
        ),
        ops.AddConstraint(
            model_name='Invitation',
            constraint=UniqueConstraint(fields=('organization', 'open_email'), name=None),
        ),
    ]
