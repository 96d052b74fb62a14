from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from compliance.audit import write_entry
        from customer_ops.audit import register_writer

        register_writer(write_entry)
