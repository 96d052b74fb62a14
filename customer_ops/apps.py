from django.apps import AppConfig


class CustomerOpsConfig(AppConfig):
    name = "customer_ops"
    verbose_name = "Customers and orders"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # One generic guard for every model that declares write rules.
        from customer_ops import guards  # noqa: F401

        # Each app contributes to the cross-domain pages by defining these modules, the way
        # admin.py is discovered: <app>/panels.py (customer page), <app>/charts.py
        # (dashboard), <app>/demo.py (seed_demo), <app>/jobs.py (run_daily_jobs). No app is
        # imported by name.
        autodiscover_modules("panels", "charts", "demo", "jobs")
