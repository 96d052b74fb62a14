from api.webhooks.retention import purge_expired
from customer_ops.models import OUTBOX_RETENTION
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = (
        "Delete the outbox's events older than the retention whose webhook deliveries are all "
        "finished, with those deliveries (safe to re-run)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Deleting webhook events older than {OUTBOX_RETENTION.days} days ...")
        purged = purge_expired()
        done = f"{purged.events} event(s) and {purged.deliveries} delivery(ies) deleted."
        self.stdout.write(self.style.SUCCESS(done))
