from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from app.compat.tortoise_sqlite_fk_column import drop_leftover

# Data steps run between the schema steps: a vendor's contact moves from the
# membership to the vendor, and a queued email's invitation becomes its generic
# reference (with the invitation's current token as the version it is for) before the
# old columns go. The SQL is the same on PostgreSQL and SQLite.
COPY_CONTACTS = (
    "UPDATE vendors SET contact_user_id = ("
    " SELECT m.user_id FROM memberships m WHERE m.vendor_id = vendors.id"
    " ORDER BY m.created_at LIMIT 1)"
    " WHERE contact_user_id IS NULL"
)
COPY_OUTBOX_REFERENCES = (
    "UPDATE outbox_emails SET ref_id = invitation_id, ref_version = ("
    " SELECT i.token_hash FROM invitations i WHERE i.id = outbox_emails.invitation_id)"
    " WHERE invitation_id IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0002_invitations_outbox')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Vendor',
            name='contact_user',
            field=fields.ForeignKeyField('models.User', source_field='contact_user_id', null=True, db_constraint=True, to_field='id', related_name='vendor_contacts', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunSQL(COPY_CONTACTS),
        ops.AlterModelOptions(
            name='Vendor',
            options={'table': 'vendors', 'app': 'models', 'unique_together': (('organization', 'contact_email'),), 'indexes': [Index(fields=['organization_id', 'created_at', 'id'], name='vendors_org_created'), Index(fields=['organization_id', 'status', 'created_at', 'id'], name='vendors_org_status_created'), Index(fields=['contact_user_id'], name='vendors_contact_user')], 'pk_attr': 'id', 'table_description': 'A supplier or contractor of one organisation.'},
        ),
        ops.AddIndex(
            model_name='Vendor',
            index=Index(fields=['contact_user_id'], name='vendors_contact_user'),
        ),
        ops.AlterModelOptions(
            name='Membership',
            options={'table': 'memberships', 'app': 'models', 'unique_together': (('user', 'organization'),), 'pk_attr': 'id', 'table_description': "A user's role in one organisation."},
        ),
        ops.RemoveField(model_name='Membership', name='vendor'),
        ops.RunPython(drop_leftover('memberships', 'vendor_id')),
        ops.AddField(
            model_name='OutboxEmail',
            name='ref_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OutboxEmail',
            name='ref_version',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.RunSQL(COPY_OUTBOX_REFERENCES),
        ops.RemoveField(model_name='OutboxEmail', name='invitation'),
        ops.RunPython(drop_leftover('outbox_emails', 'invitation_id')),
        ops.AddIndex(
            model_name='OutboxEmail',
            index=Index(fields=['ref_id'], name='outbox_ref'),
        ),
    ]
