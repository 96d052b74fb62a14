from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "Service API"

    def ready(self):
        from api.webhooks.fanout import fan_out
        from customer_ops.events import on_events

        on_events(fan_out)  # every event, in its transaction, to the subscriptions that want it
