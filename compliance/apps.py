from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from compliance import receivers
        from compliance.audit import write_entries, write_entry
        from customer_ops.audit import register_writer
        from customer_ops.panels import customer_viewed
        from customer_ops.personal_data import personal_data_revealed

        register_writer(write_entry, write_entries)
        customer_viewed.connect(receivers.customer_page_opened, dispatch_uid="compliance_access_view")
        personal_data_revealed.connect(receivers.field_revealed, dispatch_uid="compliance_access_reveal")
