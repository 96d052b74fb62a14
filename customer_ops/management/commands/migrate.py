"""``manage.py migrate`` as the owner role: the one connection allowed to change the schema.

Django's own command with one change: ``--database`` defaults to the ``owner`` alias
(``DATABASE_OWNER_URL``) instead of ``default``, which is the runtime role and may not
create or alter anything (customer_ops/db_roles.py).
"""

from django.core.management.commands.migrate import Command as DjangoMigrate

from customer_ops.db_roles import OWNER, grant_after_migrate


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Runs as the owner role (the 'owner' database alias) unless --database says otherwise."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database=OWNER)

    def handle(self, *args, **options):
        # Default privileges belong to a database: on a new one, give the runtime role its row
        # rights before the first table exists, so that data migrations (which write through
        # the runtime connection) and everything created later are covered.
        grant_after_migrate(sender=None, using=options["database"])
        return super().handle(*args, **options)
