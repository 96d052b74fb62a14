from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The project package as an app: its system checks (backoffice/checks.py) and the admin
    site's second factor. Last in INSTALLED_APPS, so ready() runs after the admin's
    autodiscover has registered every ModelAdmin (the device admins it replaces included)."""

    name = "backoffice"
    verbose_name = "Back-office"

    def ready(self):
        from backoffice import checks

        checks.register()

        # Once, when the apps are ready: from the URLconf, the registry changed on the first
        # reverse(), under whoever was iterating it then.
        from backoffice.security import configure_admin_site

        configure_admin_site()
