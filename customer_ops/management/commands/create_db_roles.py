"""Create the owner and runtime roles on an external PostgreSQL server (customer_ops/db_roles.py).

Run once per database by an administrator (a superuser), before the first ``migrate``::

    DATABASE_URL=postgres://backoffice_app:PW1@db/backoffice \\
    DATABASE_OWNER_URL=postgres://backoffice_owner:PW2@db/backoffice \\
    python manage.py create_db_roles --admin-url postgres://postgres@db/backoffice

The role names and passwords come from the two URLs; the command creates what is missing,
makes the owner own the database and whatever a former single-role deployment created in
it, and grants the runtime role its row rights (idempotent). The embedded PostgreSQL does
the same by itself.
"""

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customer_ops.db_roles import OWNER, create_roles


class Command(BaseCommand):
    help = "Create the owner (migrations) and runtime (web, jobs) database roles, as an administrator."

    def add_arguments(self, parser):
        parser.add_argument("--admin-url", required=True, help="A superuser's URL to the same database.")

    def handle(self, *args, admin_url: str, **options):
        runtime, owner = settings.DATABASES["default"], settings.DATABASES[OWNER]
        if runtime.get("USER") == owner.get("USER"):
            raise CommandError("Set DATABASE_OWNER_URL to a role other than DATABASE_URL's first.")
        with psycopg.connect(admin_url, dbname=runtime["NAME"], autocommit=True) as conn:
            done = create_roles(
                conn.cursor(),
                database=runtime["NAME"],
                owner=owner["USER"],
                runtime=runtime["USER"],
                owner_password=owner.get("PASSWORD") or None,
                runtime_password=runtime.get("PASSWORD") or None,
            )
        self.stdout.write("\n".join(done) or "roles already in place")
        self.stdout.write(self.style.SUCCESS("Now run: python manage.py migrate  (as the owner)"))
