from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The project package as an app: only for its system checks (backoffice/checks.py)."""

    name = "backoffice"
    verbose_name = "Back-office"

    def ready(self):
        from backoffice import checks

        checks.register()
