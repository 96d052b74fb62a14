"""JIT off as the database's own default (``ALTER DATABASE ... SET jit = off``).

The settings used to ask for it only in each connection's startup packet (``options=-c
jit=off``), which a transaction-mode PgBouncer refuses; a database default holds for every
connection, pooled or not, and on the replicas (docs/scaling.md, "Behind PgBouncer"). Only
the database's owner (customer_ops/db_roles.py makes it the owner role) or a superuser may
set it: anyone else gets a warning and keeps the startup option of direct connections.
"""

from django.db import migrations

_ALTER = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I {action}', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'database %: only its owner may {action} (docs/scaling.md, "Behind PgBouncer")',
        current_database();
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customer_ops", "0063_orders_created_covering_status_amount"),
    ]

    operations = [
        migrations.RunSQL(_ALTER.format(action="SET jit = off"), _ALTER.format(action="RESET jit")),
    ]
