"""The first-response triggers' functions run with a fixed search_path: a session's TEMP table
named like the side table must not take its writes (every trigger function is pinned; a test
reads the catalog)."""

from django.db import migrations

FUNCTIONS = ("tickets_first_response_insert()", "tickets_first_response_recompute()")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0067_strict_write_rules")]

    operations = [
        migrations.RunSQL(
            [f"ALTER FUNCTION {f} SET search_path = pg_catalog, public, pg_temp" for f in FUNCTIONS],
            [f"ALTER FUNCTION {f} RESET search_path" for f in FUNCTIONS],
        )
    ]
