"""The private table of erasure grants and the check the write-rule triggers call
(customer_ops/erasure_grants.py), and the partition function without pgtrigger.ignore;
the triggers themselves change in the next migrations."""

from django.db import migrations


def install(apps, schema_editor):
    from customer_ops import erasure_grants, partitions

    erasure_grants.install(schema_editor.connection)
    # The partition function moves late rows with its trigger disabled, not pgtrigger.ignore.
    partitions.install_functions(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customer_ops", "0065_trust_engine_indexes")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
