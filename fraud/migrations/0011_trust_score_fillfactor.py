"""Room on each page of customer_trust_score for the engine's next version of every row.

Every run rewrites every score (last_calculated_at), mostly with the same values: with free
space on the page such an update is HOT (no index entry written), where a full page means a
new version elsewhere and an entry in each of the table's seven indexes. Existing pages get
the room as the rows are next rewritten.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("fraud", "0010_verification_success_idx")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE customer_trust_score SET (fillfactor = 70)",
            "ALTER TABLE customer_trust_score RESET (fillfactor)",
        )
    ]
