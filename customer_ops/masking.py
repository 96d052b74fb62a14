"""Masking of personal data for the analysts, driven by the personal-data declarations.

An analyst sees customers and orders with every declared personal column masked (list,
change page, page title, the customer named by an order) and cannot search by them. A
masked value can be revealed one field at a time by a user with the reveal permission;
each reveal sends :data:`customer_ops.personal_data.personal_data_revealed` (compliance
records it in its access log).

Masking the columns is not enough: the admin answers "1 result" to ``?email=<a guess>``,
narrows ``?full_name__istartswith=A`` letter by letter and sorts by a column it hides.
:class:`ConfidentialLookupsMixin` (part of every project admin through
``customer_ops.admin_base.BaseAdmin``) refuses, for the fields a user may not read (a masked
user's personal fields, :func:`~customer_ops.personal_data.hidden_fields` for everyone), every
way of querying them: query-string lookups (400, Django's ``DisallowedModelAdminLookup``),
ordering (400 for ``o=``, left out of the default ordering), search fields and list filters
(left out, so facets never count them), on the model itself and through any relation path
(``customer__email``, ``ticket__customer__full_name``). The export of a filtered change list
builds the same change list, so it is refused the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import F, OrderBy
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from customer_ops.context import current_viewer
from customer_ops.personal_data import declaration_for, hidden_fields, personal_data_revealed, personal_fields
from customer_ops.roles import Role, group_names

MASK = "•••"
REVEAL_PERMISSION = getattr(settings, "PERSONAL_DATA_REVEAL_PERMISSION", "compliance.reveal_personal_data")
MASKED_ROLES = {Role.ANALYST.value}


def is_masked(user) -> bool:
    """Whether ``user`` sees personal columns masked (the analysts; never a superuser)."""
    if user is None:
        return False
    # Asked per row of a list: kept on the user for the request. Not mask_instance's
    # ``_personal_data_masked``, which marks a masked row (a User row can be both).
    masked = getattr(user, "_sees_masked_data", None)
    if masked is None:
        masked = user.is_authenticated and not user.is_superuser and not MASKED_ROLES.isdisjoint(group_names(user))
        user._sees_masked_data = masked
    return masked


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


def refused_field(model, path: str, user) -> str | None:
    """The field on the lookup ``path`` from ``model`` that ``user`` may not query, as
    ``"app.Model.field"``, or ``None``.

    ``path`` is a query-string lookup, an ordering or a search field (``"email"``,
    ``"customer__email__icontains"``, ``"-order__customer__full_name"``, ``"=customer__email"``).
    Every field on the way counts, through forward and reverse relations; the first part that
    is no field (a lookup or transform: ``icontains``, ``year``, a JSON key) ends the path.
    """
    for part in path.lstrip("-=^@").split("__"):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        name = getattr(field, "name", part)
        # (is_masked costs a query once per request: asked only when a personal field is on the path.)
        if (name in personal_fields(model) and is_masked(user)) or name in hidden_fields(model, user):
            return f"{model._meta.label}.{name}"
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    return None


def refused_ordering(model, ordering, user) -> str | None:
    """Like :func:`refused_field` for one ordering entry: a name, ``F()`` or ``OrderBy``.
    Ordering by a relation sorts by the related model's own ordering: that is checked too."""
    if isinstance(ordering, OrderBy):
        ordering = ordering.expression
    if isinstance(ordering, F):
        ordering = ordering.name
    if not isinstance(ordering, str) or ordering in ("?", ""):
        return None  # other expressions (annotations, functions) name no model field here
    refused = refused_field(model, ordering, user)
    if refused is None:
        target = _related_model_at(model, ordering.lstrip("-"))
        if target is not None and target is not model:
            return next((r for o in target._meta.ordering if (r := refused_field(target, o, user))), None)
    return refused


def _related_model_at(model, path: str):
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    return model


class ConfidentialLookupsMixin:
    """ModelAdmin mixin (every project admin has it through ``BaseAdmin``): what a user may
    not read, he may not filter, search, sort or facet on either (see the module docstring)."""

    def lookup_allowed(self, lookup, value, request=None):
        # False -> Django raises DisallowedModelAdminLookup: a 400, the same for any value.
        if request is not None and refused_field(self.model, lookup, request.user):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return [f for f in fields if not refused_field(self.model, f, request.user)]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return [
            f for f in filters if not (_filter_path(f) and refused_field(self.model, _filter_path(f), request.user))
        ]

    def get_ordering(self, request):
        ordering = super().get_ordering(request) or self.model._meta.ordering
        kept = [o for o in ordering if not refused_ordering(self.model, o, request.user)]
        if len(kept) == len(ordering):
            return super().get_ordering(request)
        return kept or ["-pk"]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        return [c for c in sortable if not self.column_ordering_refused(request, c)]

    def column_ordering_refused(self, request, column) -> bool:
        """Whether sorting by the list column ``column`` would sort by a field refused to the user."""
        try:
            order_field = self.model._meta.get_field(column).name
        except (FieldDoesNotExist, TypeError):
            attr = column if callable(column) else getattr(self, column, None) or getattr(self.model, column, None)
            if isinstance(attr, property):
                attr = attr.fget
            order_field = getattr(attr, "admin_order_field", None)
        return bool(order_field) and bool(refused_ordering(self.model, order_field, request.user))

    def check_ordering(self, request, ordering) -> None:
        """Called by the change list with its final ordering (``o=`` included): 400 if refused."""
        for entry in ordering:
            if refused := refused_ordering(self.model, entry, request.user):
                raise DisallowedModelAdminLookup(f"Ordering by {refused} not allowed")


def _filter_path(list_filter) -> str | None:
    """The field path of a ``list_filter`` entry (``"status"``, ``("customer__email", Cls)``);
    ``None`` for a ``SimpleListFilter`` class (its parameter is no field)."""
    if isinstance(list_filter, str):
        return list_filter
    if isinstance(list_filter, list | tuple):
        return list_filter[0]
    return None


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
