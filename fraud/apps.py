from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "fraud"
    verbose_name = "Fraud and trust"

    def ready(self):
        from fraud import demo  # noqa: F401  (registers the demo seeder)
