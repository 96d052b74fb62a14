from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Support"

    def ready(self) -> None:
        from tickets.queue_order import on_post_migrate

        # The SLA targets the queue's triggers compute with follow the settings.
        post_migrate.connect(on_post_migrate, sender=self)
