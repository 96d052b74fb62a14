"""Forms of the support console. They validate input only; every write is a service call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from customer_ops.models import Order
from customer_ops.roles import Role
from customer_ops.statements import kept_tuples
from tickets import conf
from tickets.choices import Priority, RefundMode, RefundType


class VersionField(forms.CharField):
    """The ``updated_at`` the page was rendered with (ISO 8601), for the "changed since" check."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("The page was damaged: reload it and try again.") from None
        if timezone.is_naive(parsed):
            raise ValidationError("The page was damaged: reload it and try again.")
        return parsed


def version_of(obj) -> str:
    return obj.updated_at.isoformat()


class VersionedForm(forms.Form):
    version = VersionField(required=False)


def support_staff():
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=[Role.AGENT.value, Role.LEAD.value]) | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@kept_tuples(get_user_model())
def support_staff_names():
    """(pk, first name, last name, username) of :func:`support_staff`, in its order: the
    queue's agent filter on every queue page, compiled once per process."""
    return support_staff().values_list("pk", "first_name", "last_name", "username")


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


# --- Ticket page ---------------------------------------------------------------------


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Reply to the customer",
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField", "id": "reply-text"}),
        strip=True,
    )
    attachments = forms.CharField(
        label="Attachment links (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )
    seen_message = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    seen_note = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_attachments(self):
        urls = [line.strip() for line in self.cleaned_data["attachments"].splitlines() if line.strip()]
        validate = forms.URLField(assume_scheme="https").clean
        return [validate(u) for u in urls]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note (staff only, never sent to the customer)",
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )


class AssignForm(VersionedForm):
    agent = AgentChoiceField(queryset=None, label="Assign to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = support_staff()


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(choices=Priority.choices)


class ResolveForm(VersionedForm):
    resolution = forms.CharField(
        label="Resolution", widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})
    )


class ReopenForm(VersionedForm):
    reason = forms.CharField(label="Why reopen?", widget=forms.TextInput(attrs={"class": "vTextField"}))


class FollowUpForm(VersionedForm):
    follow_up_date = forms.DateTimeField(
        label="Follow up on",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text="Leave empty to clear the follow-up.",
    )

    def clean_follow_up_date(self):
        value = self.cleaned_data["follow_up_date"]
        if value is not None and value <= timezone.now():
            raise ValidationError("The follow-up date must be in the future.")
        return value


class ConfirmForm(VersionedForm):
    """Close, assign to me: nothing but the version."""


# --- Refunds -------------------------------------------------------------------------


def parse_items(text: str) -> list[dict]:
    """``name; quantity; amount`` per line -> refund item dicts (amount = line total)."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 3:
            raise ValidationError(f"Line {n}: write 'name; quantity; amount', e.g. 'Large fries; 1; 3.50'.")
        name, quantity, amount = parts
        try:
            quantity = int(quantity)
        except ValueError:
            raise ValidationError(f"Line {n}: the quantity must be a whole number.") from None
        items.append({"item": name, "quantity": quantity, "amount": amount})
    return items


class RaiseRefundForm(forms.Form):
    order_number = forms.CharField(label="Order number", widget=forms.TextInput(attrs={"class": "vTextField"}))
    refund_type = forms.ChoiceField(choices=RefundType.choices)
    refund_reason_code = forms.ChoiceField(label="Reason code", choices=[])
    refund_reason = forms.CharField(label="Reason", widget=forms.TextInput(attrs={"class": "vTextField"}))
    refund_description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"})
    )
    requested_amount = forms.DecimalField(
        label="Requested amount",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Empty for a full refund: what the order still allows.",
    )
    refund_items = forms.CharField(
        label="Items (partial and item refunds)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text="One per line: name; quantity; amount, e.g. 'Large fries; 1; 3.50'.",
    )
    ticket = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refund_reason_code"].choices = conf.REFUND_REASON_CODES

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        order = Order.objects.filter(order_number=number).first()
        if order is None:
            raise ValidationError(f"No order {number}.")
        self.order = order
        return number

    def clean_refund_items(self):
        return parse_items(self.cleaned_data["refund_items"])


class ApproveForm(VersionedForm):
    approved_amount = forms.DecimalField(
        label="Amount to approve", max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )


class RejectForm(VersionedForm):
    rejection_reason = forms.CharField(
        label="Rejection reason", widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"})
    )


class ProcessForm(VersionedForm):
    refund_mode = forms.ChoiceField(label="Pay back through", choices=RefundMode.choices)


# --- Merge and split (tickets.services.links) ------------------------------------------


class MergeForm(forms.Form):
    target = forms.CharField(
        label="Merge this ticket into",
        widget=forms.TextInput(attrs={"class": "vTextField", "placeholder": "TKT-…"}),
        help_text="The ticket id of the customer's other ticket. This one is then closed.",
    )
    reason = forms.CharField(label="Why", required=False, widget=forms.TextInput(attrs={"class": "vTextField"}))

    def clean_target(self):
        from tickets.models import Ticket

        ticket_id = self.cleaned_data["target"].strip()
        ticket = Ticket.objects.filter(ticket_id=ticket_id).only("pk", "ticket_id").first()
        if ticket is None:
            raise ValidationError(f"No ticket {ticket_id}.")
        return ticket


class SplitForm(forms.Form):
    message = forms.IntegerField(label="From the customer's message", min_value=1)
    with_following = forms.BooleanField(label="And the messages after it", required=False)
    subject = forms.CharField(
        label="Subject of the new ticket",
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text="Empty: the message's first line.",
    )

    def set_messages(self, entries) -> SplitForm:
        """Offer the customer messages shown on the page (the service checks again)."""
        choices = [
            (e.obj.pk, f"{e.obj.created_at:%Y-%m-%d %H:%M} – {e.obj.message_text[:60]}")
            for e in entries
            if e.kind == "message" and e.obj.sender_type == "CUSTOMER"
        ]
        self.fields["message"].widget = forms.Select(choices=choices)
        return self


# --- Bulk work from the queue (tickets.services.bulk) -----------------------------------


class BulkAssignForm(forms.Form):
    agent = AgentChoiceField(queryset=None, label="Assign the selected tickets to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = support_staff()


class BulkPriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)


class BulkNoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note for each selected ticket",
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )


class BulkResolveForm(forms.Form):
    macro = forms.ModelChoiceField(queryset=None, label="Canned reply used as the resolution")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from tickets.models import Macro

        self.fields["macro"].queryset = Macro.objects.filter(is_active=True).order_by("name")


class SaveViewForm(forms.Form):
    """Names the queue's current filters, search and order as a view of the user's own."""

    name = forms.CharField(max_length=60, strip=True)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self):
        from tickets import saved_views  # the views' module imports the models, not the forms

        name = self.cleaned_data["name"]
        mine = saved_views.views_of(self.owner)
        if mine.filter(name__iexact=name).exists():
            raise ValidationError("You already have a view with this name.")
        if mine.count() >= saved_views.MAX_VIEWS:
            raise ValidationError(f"You have {saved_views.MAX_VIEWS} views already: delete one first.")
        return name
