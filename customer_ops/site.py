"""The back-office's admin site: a home page per role instead of the stock index.

Installed as the default site by :class:`customer_ops.apps.BackofficeAdminConfig`, so every
``@admin.register`` lands on it. The index keeps the stock app list (below the tiles),
ordered with the user's own apps first (:data:`customer_ops.roles.ROLE_APPS`), and shows the
user's own recent actions from the audit log instead of Django's ``LogEntry`` (the
workflows write the audit log, not ``LogEntry``).
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import get_language

from customer_ops import home
from customer_ops.access import permission_key
from customer_ops.roles import app_order, roles_of


class BackofficeSite(admin.AdminSite):
    index_template = "admin/home.html"
    # get_app_list per permission key and language (a handful of roles): the nav sidebar of
    # every admin page asked each registered admin for its permissions, 4 or 5 has_perm
    # calls per model, about a tenth of a list page's CPU. Same for every user of a role.
    _app_lists: dict[tuple, list[dict]] = {}

    def get_app_list(self, request, app_label=None):
        if app_label is not None:
            return super().get_app_list(request, app_label)
        key = (permission_key(request.user), get_language())
        app_list = self._app_lists.get(key)
        if app_list is None:
            app_list = super().get_app_list(request)
            if len(self._app_lists) >= 256:  # bounded: permission sets are few, but not fixed
                self._app_lists.clear()
            self._app_lists[key] = app_list
        return app_list

    def index(self, request, extra_context=None):
        # AdminSite.index, building the app list once: each_context's list (for the nav
        # sidebar) is the same list, reordered here (the stock index builds it twice).
        context = self.each_context(request)
        context.update(
            {
                "title": self.index_title,
                "subtitle": None,
                "app_list": self.role_ordered(request, context["available_apps"]),
                "home_sections": home.sections_for(request),
                "recent_actions": home.recent_actions(request),
                **(extra_context or {}),
            }
        )
        request.current_app = self.name
        return TemplateResponse(request, self.index_template, context)

    def role_ordered(self, request, app_list: list[dict]) -> list[dict]:
        """The stock app list with the user's own apps first. Only the home page pays the
        query for the user's groups (``get_app_list`` runs on every admin page, for the nav
        sidebar: the list pages' query budgets stay as they are)."""
        by_label = {app["app_label"]: app for app in app_list}
        return [by_label[label] for label in app_order(list(by_label), roles_of(request.user))]
