"""Right-of-access requests (issue 22): the table, its readable-id sequence, and the
compliance role's rights to see, record and decide them."""

import customer_ops.db
import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from customer_ops.roles import Role, grant

C = Role.COMPLIANCE

view = grant("compliance", {"accessrequest": [C]})
add = grant("compliance", {"accessrequest": [C]}, action="add")
process = grant("compliance", {"accessrequest": [C]}, action="process")


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0012_audit_chain_strict_triggers'),
        ('customer_ops', '0067_strict_write_rules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        customer_ops.db.create_sequence("compliance_access_requests_request_id_seq"),
        migrations.CreateModel(
            name='AccessRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('request_id', models.TextField(db_default=customer_ops.db.ReadableId('ACC', 'compliance_access_requests_request_id_seq'), editable=False, unique=True)),
                ('request_reason', models.TextField(blank=True, db_default='', default='')),
                ('status', models.TextField(choices=[('PENDING', 'Pending'), ('APPROVED', 'Approved'), ('REJECTED', 'Rejected')], db_default='PENDING', default='PENDING')),
                ('requested_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now)),
                ('recorded_via', models.TextField(blank=True, db_default='', default='', help_text='The calling system, if any.')),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('rejection_reason', models.TextField(blank=True, db_default='', default='')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='access_requests', to='customer_ops.customer')),
                ('decided_by', models.ForeignKey(blank=True, db_column='decided_by', db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('recorded_by', models.ForeignKey(blank=True, db_column='recorded_by', db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'compliance_access_requests',
                'ordering': ['-requested_at', '-id'],
                'permissions': [('process_accessrequest', 'Can approve or reject right-of-access requests')],
                'indexes': [models.Index(fields=['status', 'requested_at'], name='access_requests_status_idx'), models.Index(fields=['customer', '-requested_at'], name='access_requests_customer_idx'), models.Index(fields=['-requested_at', '-id'], name='access_requests_order_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['PENDING', 'APPROVED', 'REJECTED'])), name='compliance_access_requests_status_valid', violation_error_message='status must be one of PENDING, APPROVED, REJECTED.')],
            },
        ),
        migrations.RunPython(*view),
        migrations.RunPython(*add),
        migrations.RunPython(*process),
    ]
