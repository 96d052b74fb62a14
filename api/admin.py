"""The administrator's pages of the service API (superusers only): clients, their tokens
and the call log.

A token is shown once, in the message after "Issue a new token" or "Rotate"; afterwards
only its prefix. Revoking takes effect at the token's next call; rotating gives the client
a new token and lets the old one run for the overlap the action form asks for.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html
from procrastinate.contrib.django.models import ProcrastinateJob

from api import services
from api.home import failing
from api.models import ApiCall, ApiClient, ApiToken, WebhookDelivery, WebhookSubscription
from api.webhooks import services as webhook_services
from customer_ops.admin_base import WRITES, BaseAdmin, EstimatedCountPaginator, RecentValuesListFilter
from customer_ops.choices import EventType
from customer_ops.errors import DomainError
from customer_ops.scopes import API_SCOPES


class SuperuserOnly:
    """API clients hold the keys to every table the API writes: the administrator's alone,
    whatever permissions a role's group is given."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args):
        return self.has_module_permission(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_delete_permission(request, obj)

    def has_manage_permission(self, request):
        return self.has_module_permission(request)


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(API_SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiClient
        fields = ["name", "contact", "scopes", "enabled", "rate_limit_per_minute"]


class TokenInline(admin.TabularInline):
    model = ApiToken
    fields = readonly_fields = ["prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


def _show_once(model_admin, request, token, secret: str, what: str) -> None:
    model_admin.message_user(
        request,
        f"{what} for {token.client}: {secret} -- copy it now, it is not shown again.",
        messages.WARNING,
    )


@admin.register(ApiClient)
class ApiClientAdmin(SuperuserOnly, BaseAdmin):
    form = ApiClientForm
    list_display = ["name", "scope_list", "enabled", "rate_limit_per_minute", "contact", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    inlines = [TokenInline]
    actions = ["issue_token"]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.action(description="Issue a new token (shown once)", permissions=["manage"])
    def issue_token(self, request, queryset):
        for client in queryset:
            token, secret = services.api_token_issue(client=client, actor=request.user)
            _show_once(self, request, token, secret, f"New token {token.prefix}…")


class TokenActionForm(ActionForm):
    overlap_hours = forms.IntegerField(
        min_value=0, max_value=24 * 30, initial=24, required=False, label="Rotate: old token valid for (hours)"
    )


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnly, BaseAdmin):
    refused_writes = ("add", "delete")  # issued from the client's page; revoked, never deleted
    list_display = ["prefix", "client", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_select_related = ["client"]
    list_filter = ["client"]
    fields = readonly_fields = ["client", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    action_form = TokenActionForm
    actions = ["revoke_selected", "rotate_selected"]

    def has_change_permission(self, request, obj=None):
        return False  # the actions are its only changes

    @admin.action(description="Revoke (refused from the next call on)", permissions=["manage"])
    def revoke_selected(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token, actor=request.user)
        self.message_user(request, f"{len(queryset)} token(s) revoked.")

    @admin.action(description="Rotate (a new token; the old one for the overlap)", permissions=["manage"])
    def rotate_selected(self, request, queryset):
        try:
            hours = int(request.POST.get("overlap_hours") or 24)
        except ValueError:
            self.message_user(request, "The overlap is a number of hours.", messages.ERROR)
            return
        overlap = dt.timedelta(hours=max(0, min(hours, 24 * 30)))
        for token in queryset.select_related("client"):
            try:
                new, secret = services.api_token_rotate(token=token, overlap=overlap, actor=request.user)
            except DomainError as e:
                self.message_user(request, f"{token.prefix}…: {e.message}", messages.ERROR)
                continue
            _show_once(self, request, new, secret, f"Token {token.prefix}… rotated; its successor {new.prefix}…")


@admin.register(ApiCall)
class ApiCallAdmin(SuperuserOnly, BaseAdmin):
    """The write-call log: read-only, and never counted in full (a busy API writes a row a call)."""

    refused_writes = WRITES
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    list_display = ["at", "client", "method", "operation", "status", "affected"]
    list_select_related = ["client"]
    list_filter = ["client", ("operation", RecentValuesListFilter)]
    ordering = ["-at"]

    def get_actions(self, request):
        return {}

    @admin.display(description="affected ids")
    def affected(self, obj):
        ids = obj.affected_ids
        return ", ".join(ids[:10]) + (f" … ({len(ids)})" if len(ids) > 10 else "")


# --- webhooks (api.webhooks) ----------------------------------------------------------------


class SubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookSubscription
        fields = ["client", "url", "event_types"]

    def clean_url(self):  # the service's rule, as a form error
        try:
            return webhook_services.clean_url(self.cleaned_data.get("url", ""))
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class SubscriptionActionForm(ActionForm):
    since = forms.DateTimeField(
        required=False, label="Replay failed since (UTC, YYYY-MM-DD HH:MM)", input_formats=["%Y-%m-%d %H:%M"]
    )


class FailingFilter(admin.SimpleListFilter):
    """The home tile's list: failing (no success since the first failure) for over an hour."""

    title = "failing"
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return [("hour", "For over an hour")]

    def queryset(self, request, queryset):
        if self.value() == "hour":
            return queryset.filter(pk__in=failing().values("pk"))
        return queryset


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SuperuserOnly, BaseAdmin):
    """Subscriptions: added here (the secret shown once) or through the API; paused, resumed,
    deleted and their failed deliveries replayed by the actions (the services)."""

    refused_writes = ("delete",)  # "Delete" is an action: the row stays for its deliveries
    form = SubscriptionForm
    list_display = ["id", "client", "url", "types", "status", "failing_since", "deliveries_link", "created_at"]
    list_select_related = ["client"]
    list_filter = ["status", FailingFilter, "client"]
    action_form = SubscriptionActionForm
    actions = ["pause", "resume", "delete_subscriptions", "replay_failed_since"]

    def get_readonly_fields(self, request, obj=None):
        return ["client", "url", "types", "status", "failing_since", "deliveries_link", "created_at"] if obj else []

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else ["client", "url", "event_types"]

    @admin.display(description="event types")
    def types(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description="deliveries")
    def deliveries_link(self, obj):
        url = reverse("admin:api_webhookdelivery_changelist") + f"?subscription__id__exact={obj.pk}"
        return format_html('<a href="{}">deliveries</a>', url)

    def save_model(self, request, obj, form, change):
        if change:
            return
        created, secret = webhook_services.subscription_create(
            client=obj.client, url=obj.url, event_types=form.cleaned_data["event_types"], actor=request.user
        )
        obj.pk = created.pk
        self.message_user(
            request,
            f"Signing secret of subscription {created.pk}: {secret} -- copy it now, it is not shown again.",
            messages.WARNING,
        )

    def _each(self, request, queryset, service, done: str):
        for subscription in queryset:
            try:
                service(subscription=subscription, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"#{subscription.pk}: {error.message}", messages.ERROR)
        self.message_user(request, done)

    @admin.action(description="Pause (events kept, delivered on resume)", permissions=["manage"])
    def pause(self, request, queryset):
        self._each(request, queryset, webhook_services.subscription_pause, "Paused.")

    @admin.action(description="Resume", permissions=["manage"])
    def resume(self, request, queryset):
        self._each(request, queryset, webhook_services.subscription_resume, "Resumed.")

    @admin.action(description="Delete (nothing more delivered)", permissions=["manage"])
    def delete_subscriptions(self, request, queryset):
        self._each(request, queryset, webhook_services.subscription_delete, "Deleted.")

    @admin.action(description="Replay the failed deliveries since the time above", permissions=["manage"])
    def replay_failed_since(self, request, queryset):
        form = SubscriptionActionForm(request.POST)
        if not form.is_valid() or not form.cleaned_data.get("since"):
            self.message_user(request, "Give the time to replay from, as YYYY-MM-DD HH:MM (UTC).", messages.ERROR)
            return
        since = form.cleaned_data["since"]
        replayed = sum(
            webhook_services.deliveries_replay_failed_since(subscription=s, since=since, actor=request.user)
            for s in queryset
        )
        self.message_user(request, f"{replayed} failed deliveries replayed.")


class SubscriptionFilter(admin.RelatedFieldListFilter):
    """The subscriptions with their clients in one query (a subscription's name shows its client)."""

    def field_choices(self, field, request, model_admin):
        return [(s.pk, str(s)) for s in WebhookSubscription.objects.select_related("client").order_by("pk")]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperuserOnly, BaseAdmin):
    """Each event to each subscription: status, attempts, last answer, next attempt. Read-only
    but for the replay action; never counted in full (a busy platform writes many)."""

    refused_writes = WRITES
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    list_display = [
        "id",
        "subscription",
        "event_type",
        "customer_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_select_related = ["subscription__client", "event"]
    list_filter = ["status", ("subscription", SubscriptionFilter)]
    ordering = ["-id"]
    actions = ["replay"]

    @admin.display(description="event")
    def event_type(self, obj):
        return obj.event.event_type

    @admin.action(description="Replay (failed deliveries only)", permissions=["manage"])
    def replay(self, request, queryset):
        count = webhook_services.deliveries_replay(deliveries=list(queryset), actor=request.user)
        self.message_user(request, f"{count} failed deliveries replayed.")


# procrastinate's own job admin styles its pages inline, which the strict CSP refuses (and an
# operator acts on deliveries, above, not on raw jobs): not offered.
admin.site.unregister(ProcrastinateJob)
