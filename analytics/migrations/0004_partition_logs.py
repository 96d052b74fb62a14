"""The activity log and the login history become monthly range partitions on created_at.

Django's model state does not change (``id`` stays the model's primary key); in the
database the primary key becomes (id, created_at). See docs/partitioning.md.
"""

from django.db import migrations

from customer_ops.partitions import monthly_partitioning


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_jobs_holds_dashboard")]

    operations = [monthly_partitioning("customer_activity_log", "customer_login_history")]
