"""The hourly trust run finds the analysts' changes of a trust score (the fraud flag) by their
history rows; the engine's own rows ("Recalculated", up to one per customer a run) stay out of
this index, so an hour's lookup never reads the rows of the last full run."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("fraud", "0011_trust_score_fillfactor")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX trust_history_by_others_idx ON fraud_historicaltrustscore (history_date) "
            "WHERE history_change_reason IS DISTINCT FROM 'Recalculated'",
            "DROP INDEX trust_history_by_others_idx",
        )
    ]
