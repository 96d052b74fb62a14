"""``manage.py escalate_sla_breaches``: run the SLA escalation job (idempotent; cron it every few minutes)."""

from customer_ops.scheduled import JobCommand
from tickets.jobs import escalate_sla_breaches


class Command(JobCommand):  # one copy at a time (customer_ops/scheduled.py)
    help = "Escalate open tickets that breached their first-response or resolution SLA (each breach once)."

    def handle(self, *args, **options):
        self.stdout.write("Looking for SLA breaches...")
        result = escalate_sla_breaches()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.breaches} new breach(es) on {result.tickets} ticket(s); "
                f"{result.raised} ticket(s) had their priority raised."
            )
        )
