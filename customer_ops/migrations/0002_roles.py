from django.db import migrations

from customer_ops.roles import ALL_ROLES, Role, create_groups, grant

view = grant(
    "customer_ops",
    {
        "customer": ALL_ROLES,
        "order": ALL_ROLES,
        # Not in ARCHITECTURE.md's matrix: sessions are fraud evidence and part of a data export.
        "customersession": [Role.FRAUD, Role.COMPLIANCE],
    },
)


class Migration(migrations.Migration):
    dependencies = [
        ("customer_ops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(*view),
    ]
