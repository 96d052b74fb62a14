from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from compliance import receivers
        from compliance.audit import write_entries, write_entry
        from compliance.erasure_sql import sync_erasable_tables
        from customer_ops.audit import register_writer
        from customer_ops.panels import customer_viewed
        from customer_ops.personal_data import personal_data_revealed

        register_writer(write_entry, write_entries)
        # The erasure's grant checks tables and columns against the declarations (as the owner).
        post_migrate.connect(sync_erasable_tables, sender=self, dispatch_uid="compliance_erasable_tables")
        customer_viewed.connect(receivers.customer_page_opened, dispatch_uid="compliance_access_view")
        personal_data_revealed.connect(receivers.field_revealed, dispatch_uid="compliance_access_reveal")
