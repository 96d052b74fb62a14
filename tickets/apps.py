from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Support"

    def ready(self):
        from tickets import demo  # noqa: F401  (registers the demo seeder)
