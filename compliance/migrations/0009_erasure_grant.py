"""The erasure's grant function and its registry of erasable tables (compliance/erasure_sql.py);
the registry is filled after each migrate from the declarations."""

from django.db import migrations


def install(apps, schema_editor):
    from compliance import erasure_sql

    erasure_sql.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0008_erasure_scrub"), ("customer_ops", "0066_erasure_grants")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
