from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class BackofficeAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the back-office's site (home page per role) as ``admin.site``."""

    default = False  # customer_ops' own config stays this module's default
    default_site = "customer_ops.site.BackofficeSite"


class CustomerOpsConfig(AppConfig):
    default = True
    name = "customer_ops"
    verbose_name = "Customers and orders"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # One generic guard for every model that declares write rules.
        from customer_ops import (
            guards,  # noqa: F401
            history_rules,
        )
        from customer_ops.db_roles import grant_after_migrate

        # After every migrate, the runtime role gets its row rights on what it created, and
        # the history tables of the ruled models their append-only triggers.
        post_migrate.connect(grant_after_migrate, sender=self)
        post_migrate.connect(history_rules.install, sender=self, dispatch_uid="history_append_only")
        # A role that includes another (the fraud lead) holds its rights (customer_ops.roles).
        from customer_ops.roles import sync_included_rights

        post_migrate.connect(sync_included_rights, dispatch_uid="roles_included_rights")
        # Times in query results parsed by psycopg's compiled loader (customer_ops/pg_loaders.py).
        from django.db.backends.signals import connection_created

        from customer_ops import pg_loaders

        connection_created.connect(pg_loaders.register, dispatch_uid="utc_timestamp_loader")

        # Each app contributes to the cross-domain pages by defining these modules, the way
        # admin.py is discovered: <app>/panels.py (customer page), <app>/charts.py
        # (dashboard), <app>/demo.py (seed_demo), <app>/jobs.py (run_daily_jobs), <app>/home.py
        # (the home page's sections), <app>/datagen.py (generate_data). No app is imported by name.
        autodiscover_modules("panels", "charts", "demo", "jobs", "home", "datagen")
