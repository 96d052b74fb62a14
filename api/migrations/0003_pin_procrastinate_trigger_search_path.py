"""procrastinate's trigger functions run with a fixed search_path, like the project's own
(tests/customer_ops/test_bypass_attacks.py): a session's TEMP table or search path cannot
stand in for the queue's tables. Re-run after a procrastinate upgrade that replaces them
(the test fails until then)."""

from django.db import migrations

PIN = """
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN
        SELECT DISTINCT p.oid::regprocedure FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND p.proname LIKE 'procrastinate%'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_webhook_subscriptions_and_deliveries"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [migrations.RunSQL(PIN, migrations.RunSQL.noop)]
