from api.idempotency import RETENTION, purge_expired
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Delete the service API's idempotency keys older than 24 hours (safe to re-run)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleting idempotency keys older than {RETENTION} ...")
        deleted = purge_expired()
        self.stdout.write(self.style.SUCCESS(f"{deleted} key(s) deleted."))
