from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Support"

    def ready(self) -> None:
        from customer_ops.registry import register_staff_text_scrubber
        from tickets.queue_order import on_post_migrate
        from tickets.saved_views import scrub_saved_searches

        # The SLA targets the queue's triggers compute with follow the settings.
        post_migrate.connect(on_post_migrate, sender=self)
        # A saved view's search may name a customer: every erasure rewrites it.
        register_staff_text_scrubber(key="ticket_saved_views", scrub=scrub_saved_searches)
