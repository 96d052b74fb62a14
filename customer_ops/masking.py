"""Masking of personal data for the analysts, driven by the personal-data declarations.

An analyst sees customers and orders with every declared personal column masked (list,
change page, page title, the customer named by an order) and cannot search by them. A
masked value can be revealed one field at a time by a user with the reveal permission;
each reveal sends :data:`customer_ops.personal_data.personal_data_revealed` (compliance
records it in its access log).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from customer_ops.context import current_viewer
from customer_ops.personal_data import declaration_for, personal_data_revealed, personal_fields
from customer_ops.roles import Role

MASK = "•••"
REVEAL_PERMISSION = getattr(settings, "PERSONAL_DATA_REVEAL_PERMISSION", "compliance.reveal_personal_data")
MASKED_ROLES = {Role.ANALYST.value}


def is_masked(user) -> bool:
    """Whether ``user`` sees personal columns masked (the analysts; never a superuser)."""
    if user is None or not user.is_authenticated or user.is_superuser:
        return False
    cached = getattr(user, "_personal_data_masked", None)
    if cached is None:
        cached = user.groups.filter(name__in=MASKED_ROLES).exists()
        user._personal_data_masked = cached
    return cached


def viewer_masked() -> bool:
    """Whether the staff member of the current request sees personal data masked."""
    return is_masked(current_viewer())


def mask_value(value):
    """``Jane Doe`` -> ``J••• D•••``; ``jane@x.com`` -> ``j•••@•••``; empty stays empty."""
    if value in (None, ""):
        return value
    text = str(value)
    if "@" in text:
        return f"{text[:1]}{MASK}@{MASK}"
    return " ".join(f"{word[:1]}{MASK}" for word in text.split()) or MASK


def mask_instance(obj) -> None:
    """Mask the declared personal columns of ``obj`` in memory (never saved: masked users only view)."""
    for name in personal_fields(type(obj)):
        setattr(obj, name, mask_value(getattr(obj, name)))
    obj._personal_data_masked = True


def _masked_column(name: str, label: str):
    def column(obj):
        return mask_value(getattr(obj, name))

    column.short_description = label
    column.__name__ = f"masked_{name}"
    return column


class PersonalDataMaskingMixin:
    """ModelAdmin mixin: the model's declared personal columns are masked for analysts.

    ``masked_relations``: foreign keys whose related object's ``str()`` shows personal data
    (an order's customer); masked users see the related id instead.
    """

    masked_relations: tuple[str, ...] = ()

    def get_list_display(self, request):
        fields = list(super().get_list_display(request))
        if not is_masked(request.user):
            return fields
        personal = set(personal_fields(self.model))
        shown = []
        for name in fields:
            if name in personal:
                label = self.model._meta.get_field(name).verbose_name
                shown.append(_masked_column(name, label))
            elif name in self.masked_relations:
                shown.append(_related_id_column(name))
            else:
                shown.append(name)
        return shown

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if is_masked(request.user) and links:
            names = {getattr(c, "__name__", c) for c in list_display}
            kept = [link for link in links if link in names]
            return kept or [list_display[0]]
        return links

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if not is_masked(request.user):
            return fields
        # No search by a personal column: a match would reveal it.
        personal = set(personal_fields(self.model))
        related = {
            f"{rel}__{name}"
            for rel in self.masked_relations
            for name in personal_fields(self.model._meta.get_field(rel).related_model)
        }
        return [f for f in fields if f.lstrip("=^@") not in personal | related]

    def get_search_results(self, request, queryset, search_term):
        # The admin's autocomplete lists objects by str(), which names the customer: a masked
        # user gets none (analysts only view, they have no form that needs it).
        if is_masked(request.user) and getattr(request.resolver_match, "url_name", None) == "autocomplete":
            raise PermissionDenied
        return super().get_search_results(request, queryset, search_term)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and is_masked(request.user):
            mask_instance(obj)
            for rel in self.masked_relations:
                related = getattr(obj, rel, None)
                if related is not None:
                    mask_instance(related)
        return obj

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and is_masked(request.user):
            context["reveal_fields"] = [
                (name, self.model._meta.get_field(name).verbose_name)
                for name in personal_fields(self.model)
                if getattr(obj, name) not in (None, "")
            ]
            context["can_reveal"] = request.user.has_perm(REVEAL_PERMISSION)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/reveal/<str:field>/",
                self.admin_site.admin_view(self.reveal_view),
                name=f"{info}_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request, object_id, field):
        """Show one masked value (POST only), and record that it was shown."""
        if request.method != "POST" or not request.user.has_perm(REVEAL_PERMISSION):
            raise PermissionDenied
        if field not in personal_fields(self.model):
            raise Http404
        obj = get_object_or_404(self.model, pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        path_to_customer = declaration_for(self.model).customer_path
        customer_id = obj.pk if path_to_customer == "pk" else getattr(obj, f"{path_to_customer}_id")
        personal_data_revealed.send(
            sender=self.model, customer_id=customer_id, model=self.model, field=field, request=request
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{self.model._meta.get_field(field).verbose_name} of {self.opts.verbose_name} {obj.pk}",
            "object_id": obj.pk,
            "value": getattr(obj, field),
        }
        return TemplateResponse(request, "admin/customer_ops/revealed.html", context)


def _related_id_column(name: str):
    def column(obj):
        return format_html("#{}", getattr(obj, f"{name}_id"))

    column.short_description = name.replace("_", " ")
    column.__name__ = f"{name}_ref"
    return column
