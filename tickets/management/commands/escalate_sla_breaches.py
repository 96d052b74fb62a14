"""``manage.py escalate_sla_breaches``: run the SLA escalation job (idempotent; cron it every few minutes)."""

from django.core.management.base import BaseCommand

from tickets.jobs import escalate_sla_breaches


class Command(BaseCommand):
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
