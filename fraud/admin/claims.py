"""The claimed review queues' admin parts, shared by the alert and the suspicious-activity
admins: the "Held by" column, the claim taken on opening a row, "Take next" and a lead's
reassignment. The rules themselves live in :mod:`fraud.services_review`."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from customer_ops.errors import DomainError
from customer_ops.roles import Role, with_included
from fraud import conf, services_review
from fraud.admin.common import form_page, redirect_to, require, run
from fraud.forms import ReassignForm


def analysts():
    """Who an alert or activity may be handed to: active staff in the fraud roles."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=with_included(Role.FRAUD))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


class ClaimedQueueMixin:
    """For a ModelAdmin whose rows are claimed by analysts. Subclasses name the claim's
    reverse one-to-one (``claim_relation``, also in ``list_select_related`` so the column
    costs no query per row) and the services of their queue."""

    claim_relation: str  # "review" (alerts) / "claim" (suspicious activities)
    done_field: str  # the row's boolean saying the review is over
    label: str  # "Alert", "Suspicious activity"
    waiting: str  # "No {waiting} is waiting: ..."
    done_word: str  # "resolved" / "reviewed"
    work_permission: str
    # The queue's services, as staticmethod(...) in the subclass.
    claim_of: Callable
    claim_service: Callable
    take_next_service: Callable
    reassign_service: Callable
    service_kwarg: str  # "alert" / "activity"

    @admin.display(description="Held by")
    def held_by(self, obj):
        claim = getattr(obj, self.claim_relation, None)
        if getattr(obj, self.done_field) or claim is None or not claim.is_live(timezone.now()):
            return ""
        return f"{_name(claim.claimed_by)} until {timezone.localtime(claim.claimed_until):%H:%M}"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_take_next": request.user.has_perm(self.work_permission)}
        return super().changelist_view(request, extra_context)

    def claim_context(self, request, obj) -> dict:
        """The change page's claim: opening a row nobody holds claims it for the analyst
        (Sift's queue); the live claim (theirs or someone else's) is shown either way."""
        can_work = request.user.has_perm(self.work_permission) and not getattr(obj, self.done_field)
        claim = None
        if can_work and request.method == "GET":
            claim = self.claim_of(obj)
            if claim is None:
                try:
                    self.claim_service(**{self.service_kwarg: obj, "actor": request.user})
                except DomainError:
                    pass  # taken meanwhile: the page shows who holds it
                claim = self.claim_of(obj)
        return {
            "claim": claim,
            "held_by_other": claim is not None and claim.claimed_by_id != request.user.pk,
            "can_reassign": not getattr(obj, self.done_field) and request.user.has_perm(services_review.REASSIGN),
            "claim_minutes": conf.CLAIM_MINUTES,
        }

    def _queue(self) -> HttpResponseRedirect:
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def take_next_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request, self.work_permission)
        try:
            obj = self.take_next_service(actor=request.user)
        except DomainError as error:
            self.show_refusal(request, error)
            return self._queue()
        if obj is None:
            self.message_user(
                request, f"No {self.waiting} is waiting: every one is {self.done_word} or held.", messages.INFO
            )
            return self._queue()
        self.message_user(
            request, f"{self.label} #{obj.pk} is yours for {conf.CLAIM_MINUTES} minutes.", messages.SUCCESS
        )
        return redirect_to(obj)

    def reassign_view(self, request, object_id):
        require(request, services_review.REASSIGN)
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        form = ReassignForm(request.POST or None, analysts=analysts())
        if request.method == "POST" and form.is_valid():
            who = form.cleaned_data["analyst"]
            done = f"{self.label} #{obj.pk} handed to {_name(who)}."
            kwargs = {self.service_kwarg: obj, "analyst": who, "actor": request.user}
            if run(request, self.reassign_service, done, **kwargs):
                return redirect_to(obj)
        return form_page(self, request, title=f"Reassign {self.label.lower()} #{obj.pk}", form=form, obj=obj)
