import datetime as dt
import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from customer_ops.demo import demo_data_present, ensure_staff
from customer_ops.registry import seeders

DEFAULT_PASSWORD = "backoffice-demo"  # demo only; printed below


class Command(BaseCommand):
    help = "Fill every table with consistent demo data and create one demo login per role (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Password of every demo login.")

    def handle(self, *args, password: str, **options):
        with transaction.atomic():
            users = ensure_staff(password)
            if demo_data_present():
                self.stdout.write("Demo data already present: logins refreshed, no rows added.")
            else:
                now = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
                ctx = {
                    "rng": random.Random(20261125),
                    "now": now,
                    "users": users,
                    "stdout": self.stdout,
                }
                for seeder in seeders.ordered():
                    self.stdout.write(f"  seeding {seeder.key} ...")
                    seeder.seed(ctx)
                self.stdout.write(self.style.SUCCESS("Demo data created."))
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {password}):")
        for username in ["agent", "lead", "fraud", "legal", "compliance", "analyst", "admin"]:
            role = ", ".join(g.name for g in users[username].groups.all()) or "superuser"
            self.stdout.write(f"  {username:<11} {role}")
