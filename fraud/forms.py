"""Forms of the fraud console's admin pages. They validate input; services do the work."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from customer_ops.choices import ServiceType
from customer_ops.models import Customer
from customer_ops.widgets import LabelledSplitDateTime
from fraud.choices import AlertOutcome, AlertReasonCode, AlertSeverity, AlertType, BlockType
from fraud.models import FraudAlert

NOTES = forms.Textarea(attrs={"rows": 3, "cols": 60})


class VersionField(forms.CharField):
    """The version of the row the page showed (``fraud.services.row_version``), sent back
    as ``expected_version`` so that a change someone made meanwhile is refused, not
    overwritten. Empty (a bulk action, an older page): no check."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        return value.isoformat() if isinstance(value, dt.datetime) else value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError("The page's version is unreadable: reload the page and try again.") from None
        if parsed.tzinfo is None:
            raise forms.ValidationError("The page's version is unreadable: reload the page and try again.")
        return parsed


class BlockForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(), widget=forms.NumberInput, help_text="Customer id."
    )
    block_type = forms.ChoiceField(choices=BlockType.choices)
    service_type = forms.ChoiceField(
        choices=[("", "All services")] + list(ServiceType.choices),
        required=False,
        help_text="Empty means every service. Account blocks always cover every service.",
    )
    block_reason = forms.CharField(widget=NOTES)
    block_reason_code = forms.CharField(required=False)
    block_notes = forms.CharField(required=False, widget=NOTES)
    blocked_until = forms.SplitDateTimeField(
        required=False, widget=LabelledSplitDateTime, help_text="Empty means permanent."
    )
    auto_unblock = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Lift the block automatically when it expires. Without it, an expired block stays in force "
        "until someone lifts it.",
    )
    alert = forms.ModelChoiceField(queryset=FraudAlert.objects.all(), required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("block_type") == BlockType.ACCOUNT_BLOCK and data.get("service_type"):
            self.add_error("service_type", "An account block covers every service: leave this empty.")
        until = data.get("blocked_until")
        if until is not None and until <= timezone.now():
            self.add_error("blocked_until", "A timed block must end in the future.")
        alert = data.get("alert")
        customer = data.get("customer")
        if alert is not None and customer is not None and alert.customer_id != customer.pk:
            self.add_error("customer", "This is not the alert's customer.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=NOTES, help_text="Required: kept in the block's history and the audit log.")
    version = VersionField()


# Field names never "action": the admin's changelist actions post their name under that key.
class ActionForm(forms.Form):
    action_taken = forms.CharField(widget=NOTES, label="Action taken")
    version = VersionField()


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose the outcome…"), *AlertOutcome.choices])
    reason_code = forms.ChoiceField(choices=[("", "Choose a reason…"), *AlertReasonCode.choices], label="Reason code")
    notes = forms.CharField(widget=NOTES, label="Resolution notes")
    action_taken = forms.CharField(widget=NOTES, required=False, label="Action taken (optional)")
    version = VersionField()


class ReviewForm(forms.Form):
    notes = forms.CharField(widget=NOTES, label="Review notes")
    action_taken = forms.CharField(required=False, label="Action taken")
    version = VersionField()


class RaiseAlertForm(forms.Form):
    alert_type = forms.ChoiceField(choices=AlertType.choices)
    alert_severity = forms.ChoiceField(choices=AlertSeverity.choices)
    description = forms.CharField(widget=NOTES, required=False)


class ConfirmFraudForm(forms.Form):
    notes = forms.CharField(widget=NOTES, help_text="Why: kept in the audit log.")
    version = VersionField()


class ReassignForm(forms.Form):
    analyst = forms.ModelChoiceField(
        queryset=None, label="Hand it to", help_text="A fresh 60-minute claim for them, whoever holds it now."
    )

    def __init__(self, *args, analysts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analyst"].queryset = analysts
        self.fields["analyst"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.get_username()} ({u.get_username()})"
        )


class PrecisionPeriodForm(forms.Form):
    """The precision report's period: decisions made from ``start`` to ``end`` (dates, UTC)."""

    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Decided from")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="to (inclusive)")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The period must end on or after its start.")
        return data
