"""django-import-export resources: the ML pipeline's fraud alerts and suspicious activities.

A file imports as a whole or not at all: every row is validated (known customer and order,
values inside the spec's enums and ranges, well-formed JSON evidence), every bad row is
reported with its reasons, and one bad row rolls the whole file back. Rows are always
new records: an import never changes an existing alert or activity (their workflow fields
belong to the fraud team's services).
"""

from __future__ import annotations

import json

from import_export import fields, resources, widgets

from customer_ops.models import Customer, Order
from fraud.models import FraudAlert, SuspiciousActivity


class ExistingRowWidget(widgets.ForeignKeyWidget):
    """A foreign key by id whose "no such row" is a row error with a reason, not a crash."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            key = int(str(value).strip())
        except ValueError as e:
            raise ValueError(f"{value!r} is not a {self.model._meta.verbose_name} id.") from e
        try:
            return self.model.objects.get(pk=key)
        except self.model.DoesNotExist as e:
            raise ValueError(f"{self.model._meta.verbose_name.capitalize()} {key} does not exist.") from e


class EvidenceWidget(widgets.JSONWidget):
    """JSON evidence: an object (or empty), with a readable reason when it is malformed."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return {}
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Evidence is not valid JSON ({e}).") from e
        if not isinstance(parsed, dict):
            raise ValueError("Evidence must be a JSON object.")
        return parsed


class AllOrNothingResource(resources.ModelResource):
    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        # One invalid row rolls back the valid ones too (dry run or not).
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def get_instance(self, instance_loader, row):
        return None  # always a new row: imports never update existing records

    def after_import(self, dataset, result, **kwargs):
        # django-import-export then resets the id sequence (setval), as loaddata does for
        # files with explicit ids. These files carry none (ids come from the sequence), and
        # the runtime role may only use sequences, not set them (customer_ops/db_roles.py).
        pass


class FraudAlertResource(AllOrNothingResource):
    customer = fields.Field(attribute="customer", column_name="customer_id", widget=ExistingRowWidget(Customer))
    order = fields.Field(attribute="order", column_name="order_id", widget=ExistingRowWidget(Order))
    evidence = fields.Field(attribute="evidence", column_name="evidence", widget=EvidenceWidget())

    class Meta:
        model = FraudAlert
        fields = ["customer", "order", "alert_type", "alert_severity", "alert_description", "evidence"]
        import_id_fields = []
        clean_model_instances = True
        skip_diff = True
        use_transactions = True


class SuspiciousActivityResource(AllOrNothingResource):
    customer = fields.Field(attribute="customer", column_name="customer_id", widget=ExistingRowWidget(Customer))
    evidence = fields.Field(attribute="evidence", column_name="evidence", widget=EvidenceWidget())

    class Meta:
        model = SuspiciousActivity
        fields = [
            "customer",
            "activity_type",
            "activity_description",
            "detected_by",
            "detection_confidence",
            "risk_score",
            "evidence",
            "requires_review",
            "action_recommended",
        ]
        import_id_fields = []
        clean_model_instances = True
        skip_diff = True
        use_transactions = True


def row_errors(result) -> list[tuple[int, list[str]]]:
    """Every bad row of an import result with its reasons: ``[(row number, [reason, ...])]``."""
    bad: dict[int, list[str]] = {}
    for invalid in result.invalid_rows:
        for field_name, messages in invalid.error_dict.items():
            for message in messages:
                bad.setdefault(invalid.number, []).append(f"{field_name}: {message}")
    for number, errors in result.row_errors():
        for error in errors:
            bad.setdefault(number, []).append(str(error.error))
    return sorted(bad.items())
