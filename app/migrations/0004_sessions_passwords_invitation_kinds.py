from tortoise import migrations
from tortoise.migrations import operations as ops
from app.accounts.models import TokenPurpose
from app.accounts.roles import Role
from app.invitations.statuses import InvitationKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

# Accounts that exist before address verification was introduced count as verified:
# they signed up when no check existed, or proved their mailbox by accepting an
# invitation; locking them out of inviting would be wrong.
GRANDFATHER_VERIFIED = "UPDATE users SET email_verified_at = created_at"


class Migration(migrations.Migration):
    dependencies = [('models', '0003_contacts_on_vendors_generic_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OneTimeToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('purpose', fields.CharEnumField(description='PASSWORD_RESET: password_reset\nEMAIL_VERIFICATION: email_verification', enum_type=TokenPurpose, max_length=32)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='one_time_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'one_time_tokens', 'app': 'models', 'indexes': [Index(fields=['user_id', 'purpose'], name='one_time_tokens_user')], 'pk_attr': 'id', 'table_description': 'A single-use token mailed to a user (password reset, address verification).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(max_length=400)),
                ('window_start', fields.BigIntField()),
                ('hits', fields.IntField(default=0)),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'rate_counters', 'app': 'models', 'unique_together': (('key', 'window_start'),), 'pk_attr': 'id', 'table_description': 'Hits of one key (e.g. failed logins of one address) in one fixed time window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('family_id', fields.UUIDField(db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refresh_tokens', 'app': 'models', 'indexes': [Index(fields=['user_id', 'organization_id'], name='refresh_tokens_member')], 'pk_attr': 'id', 'table_description': 'One refresh token of a session (a family). Only its SHA-256 hash is kept.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='invited_by',
            field=fields.ForeignKeyField('models.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name='invitations_sent', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Invitation',
            name='kind',
            field=fields.CharEnumField(default=InvitationKind.VENDOR, description='VENDOR: vendor\nTEAMMATE: teammate', db_default='vendor', enum_type=InvitationKind, max_length=16),
        ),
        ops.AddField(
            model_name='Invitation',
            name='role',
            field=fields.CharEnumField(default=Role.VENDOR, description='OWNER: owner\nMEMBER: member\nVENDOR: vendor', db_default='vendor', enum_type=Role, max_length=16),
        ),
        ops.AddField(
            model_name='Membership',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='email_verified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(GRANDFATHER_VERIFIED),
        ops.DeleteModel(name='LoginFailure'),
    ]
