"""The back-office's admin site: a home page per role instead of the stock index.

Installed as the default site by :class:`customer_ops.apps.BackofficeAdminConfig`, so every
``@admin.register`` lands on it. The index keeps the stock app list (below the tiles),
ordered with the user's own apps first (:data:`customer_ops.roles.ROLE_APPS`), and shows the
user's own recent actions from the audit log instead of Django's ``LogEntry`` (the
workflows write the audit log, not ``LogEntry``).
"""

from __future__ import annotations

from django.contrib import admin

from customer_ops import home
from customer_ops.roles import app_order, roles_of


class BackofficeSite(admin.AdminSite):
    index_template = "admin/home.html"

    def index(self, request, extra_context=None):
        context = {
            "home_sections": home.sections_for(request),
            "recent_actions": home.recent_actions(request),
            "app_list": self.get_role_app_list(request),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def get_role_app_list(self, request) -> list[dict]:
        """The stock app list with the user's own apps first. Only the home page pays the
        query for the user's groups: every admin page builds ``get_app_list`` (for the nav
        sidebar), and the list pages' query budgets stay as they are."""
        by_label = {app["app_label"]: app for app in self.get_app_list(request)}
        return [by_label[label] for label in app_order(list(by_label), roles_of(request.user))]
