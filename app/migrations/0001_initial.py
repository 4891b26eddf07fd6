from tortoise import migrations
from tortoise.migrations import operations as ops
from app.accounts.models import Role
from app.vendors.models import VendorStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(max_length=320)),
                ('client_ip', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'login_failures', 'app': 'models', 'indexes': [Index(fields=['email', 'created_at'], name='login_failures_email_at'), Index(fields=['client_ip', 'created_at'], name='login_failures_ip_at')], 'pk_attr': 'id', 'table_description': 'One failed login, counted per email and per client address over a window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organizations', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=320)),
                ('full_name', fields.CharField(max_length=200)),
                ('password_hash', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vendor',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='vendors', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('contact_email', fields.CharField(max_length=320)),
                ('phone', fields.CharField(null=True, max_length=50)),
                ('website', fields.CharField(null=True, max_length=2048)),
                ('category', fields.CharField(null=True, max_length=100)),
                ('notes', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=VendorStatus.DRAFT, description='DRAFT: draft\nINVITED: invited\nACTIVE: active\nSUSPENDED: suspended\nARCHIVED: archived', enum_type=VendorStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'vendors', 'app': 'models', 'unique_together': (('organization', 'contact_email'),), 'indexes': [Index(fields=['organization_id', 'created_at', 'id'], name='vendors_org_created'), Index(fields=['organization_id', 'status', 'created_at', 'id'], name='vendors_org_status_created')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='OWNER: owner\nMEMBER: member\nVENDOR: vendor', enum_type=Role, max_length=16)),
                ('vendor', fields.ForeignKeyField('models.Vendor', source_field='vendor_id', null=True, db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'memberships', 'app': 'models', 'unique_together': (('user', 'organization'),), 'pk_attr': 'id', 'table_description': "A user's role in one organisation. Vendor contacts also point at their vendor."},
            bases=['Model'],
        ),
    ]
