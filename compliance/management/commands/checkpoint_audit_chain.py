from compliance.chain import checkpoint
from customer_ops.scheduled import JobCommand


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = (
        "Record each audit chain's head (seq and hash), so that entries cut off the end of a chain "
        "are found by verify_audit_chain (docs/audit_chain.md). Daily; safe to re-run."
    )

    def handle(self, *args, **options):
        heads = checkpoint()
        for head in heads:
            # Also a copy outside the database, in the job's log: compare it when in doubt.
            self.stdout.write(f"{head} ({'recorded' if head.recorded else 'unchanged since the last checkpoint'})")
        recorded = sum(head.recorded for head in heads)
        self.stdout.write(self.style.SUCCESS(f"{recorded} of {len(heads)} chain head(s) recorded"))
