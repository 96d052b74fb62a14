"""The audit log becomes monthly range partitions on created_at (see docs/partitioning.md)."""

from django.db import migrations

from customer_ops.partitions import monthly_partitioning


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_deletion_workflow_access_log_erasure_runs")]

    operations = [monthly_partitioning("customer_audit_log")]
