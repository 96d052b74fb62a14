import datetime as dt
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from customer_ops.demo import STAFF, demo_data_present, ensure_staff
from customer_ops.registry import seeders

DEFAULT_PASSWORD = "backoffice-demo"  # demo only; printed below


class Command(BaseCommand):
    help = "Fill every table with consistent demo data and create one demo login per role (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help=f"Password of every demo login (default {DEFAULT_PASSWORD!r}, development only)."
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run with production settings (DEBUG not true), e.g. on a staging copy: needs --password, "
            "which must pass the password validators. It creates a superuser 'admin' with that password.",
        )

    def handle(self, *args, password: str | None, allow_production: bool, **options):
        if settings.PRODUCTION:
            # The demo logins include a superuser: never with the public demo password, never by accident.
            if not allow_production or not password:
                raise CommandError(
                    "Refusing to seed demo data and demo logins (including a superuser 'admin') with production "
                    "settings. On a staging copy, pass --allow-production and --password with a strong password."
                )
            _validate(password)
        password = password or DEFAULT_PASSWORD
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
        shown = "the one given with --password" if settings.PRODUCTION else password  # never a real one in logs
        self.stdout.write(f"Demo logins (password for all: {shown}):")
        # One login per role (the first of STAFF that has it: the extra agents log in like
        # "agent"), then the superuser: a role added to STAFF is listed without a change here.
        first_of_role = {role: username for username, _, _, role in reversed(STAFF)}
        for username in [*sorted(first_of_role.values(), key=[u for u, *_ in STAFF].index), "admin"]:
            role = ", ".join(g.name for g in users[username].groups.all()) or "superuser"
            self.stdout.write(f"  {username:<11} {role}")


def _validate(password: str) -> None:
    """The project's password validators, against every demo login it will be set on."""
    User = get_user_model()
    logins = [User(username=username, first_name=first, last_name=last) for username, first, last, _ in STAFF]
    problems: list[str] = ["This is the public demo password."] if password == DEFAULT_PASSWORD else []
    for user in [*logins, User(username="admin")]:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            problems += [message for message in exc.messages if message not in problems]
    if problems:
        raise CommandError("The password is refused: " + " ".join(problems))
