from tortoise import migrations
from tortoise.migrations import operations as ops
from app.invitations.models import InvitationStatus
from app.mail.models import OutboxStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('vendor', fields.ForeignKeyField('models.Vendor', source_field='vendor_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('open_vendor_id', fields.UUIDField(null=True, unique=True)),
                ('email', fields.CharField(max_length=320)),
                ('message', fields.TextField(null=True, unique=False)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('status', fields.CharEnumField(description='PENDING: pending\nSENT: sent\nACCEPTED: accepted\nREVOKED: revoked\nEXPIRED: expired\nFAILED: failed', enum_type=InvitationStatus, max_length=16)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failure_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'invitations', 'app': 'models', 'indexes': [Index(fields=['vendor_id', 'created_at'], name='invitations_vendor_created'), Index(fields=['status', 'expires_at'], name='invitations_status_expires')], 'pk_attr': 'id', 'table_description': "An invitation of a vendor's contact."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEmail',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', null=True, db_constraint=True, to_field='id', related_name='emails', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharField(max_length=32)),
                ('to_address', fields.CharField(max_length=320)),
                ('message_id', fields.CharField(max_length=255)),
                ('context', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('secret', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=OutboxStatus.QUEUED, description='QUEUED: queued\nSENT: sent\nFAILED: failed\nCANCELLED: cancelled', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_emails', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'], name='outbox_due'), Index(fields=['claim_token'], name='outbox_claim_token')], 'pk_attr': 'id', 'table_description': 'One email to send. A worker leases a queued row (claimed_until) while sending it.'},
            bases=['Model'],
        ),
    ]
