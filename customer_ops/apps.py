from django.apps import AppConfig


class CustomerOpsConfig(AppConfig):
    name = "customer_ops"
    verbose_name = "Customers and orders"

    def ready(self):
        # One generic guard for every model that declares write rules.
        from customer_ops import demo, guards  # noqa: F401
