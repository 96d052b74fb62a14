from customer_ops.scheduled import JobCommand
from fraud.jobs import unblock_expired


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Lift every expired block that has auto_unblock (safe to re-run)."

    def handle(self, *args, **options):
        self.stdout.write("Lifting expired auto-unblock blocks ...")
        result = unblock_expired()
        ids = ", ".join(f"#{pk}" for pk in result.lifted) or "none"
        self.stdout.write(self.style.SUCCESS(f"{len(result.lifted)} block(s) lifted: {ids}."))
