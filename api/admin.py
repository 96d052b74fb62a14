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

from api import services
from api.models import ApiCall, ApiClient, ApiToken
from customer_ops.admin_base import WRITES, BaseAdmin, EstimatedCountPaginator, RecentValuesListFilter
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
