from django.core.management.base import CommandError

from compliance.jobs import process_deletion_requests
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Carry out every PROCESSING GDPR deletion request (or one, with --request). Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--request", dest="request_id", help="Only this request (e.g. DEL-00000001).")
        parser.add_argument("--chunk-size", type=int, default=None, help="Rows per transaction.")

    def handle(self, *args, request_id=None, chunk_size=None, **options):
        totals = process_deletion_requests(
            request_id=request_id, chunk_size=chunk_size, log=lambda line: self.stdout.write(line)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals['completed']} completed, {totals['held']} waiting on a legal hold, {totals['failed']} failed"
            )
        )
        if request_id and totals["failed"]:
            raise CommandError(f"{request_id} could not be processed.")
