"""Change-list rows (customer_ops.admin_rows) are Django's own markup, byte for byte, on every
registered admin: the admin's JavaScript, the accessibility checks and the tests written
against Django's rows keep holding, only cheaper."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.db import models
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from customer_ops import admin_rows
from tests.factories import ADMIN_FACTORIES as FACTORIES
from tickets.choices import TicketStatus

MODELS = sorted((m for m in admin.site._registry if m in FACTORIES), key=lambda m: m._meta.db_table)


def _changelist(model, user, **params):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    request = RequestFactory().get(url, params)
    request.user = user
    request.resolver_match = resolve(url)  # the admin preserves the filters of its own list URL
    cl = admin.site._registry[model].get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it for a list without list_editable
    return cl


def _django_rows(cl) -> list[str]:
    return ["".join(items) for items in results(cl)]


def _lean_rows(cl) -> list[str]:
    return [row for (row,) in admin_rows.RowRenderer(cl).rows()]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.db_table)
def test_rows_are_djangos_markup_on_every_admin(superuser, model):
    FACTORIES[model].create_batch(3)
    cl = _changelist(model, superuser)
    assert cl.result_list, "no row to compare"
    assert _lean_rows(cl) == _django_rows(cl)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS[:3], ids=lambda m: m._meta.db_table)
def test_row_links_keep_the_pages_filters(superuser, model):
    """The change link of every row carries the list's query (``_changelist_filters``),
    computed once per page and equal to Django's per-row computation."""
    FACTORIES[model].create_batch(2)
    cl = _changelist(model, superuser, o="-1")
    assert _lean_rows(cl) == _django_rows(cl)
    assert all("_changelist_filters=o%3D-1" in row for row in _lean_rows(cl))


@pytest.mark.django_db
def test_queue_rows_in_every_sla_state_are_djangos(superuser):
    """The queue's own columns (SLA badge, age, unread, escalation) over tickets in each
    state: open and due, open and breached, resolved in time, resolved late, closed."""
    from tickets.models import Ticket
    from tickets.services import tickets as services

    factory = FACTORIES[Ticket]
    now = timezone.now()
    factory(created_at=now - dt.timedelta(minutes=5))
    factory(created_at=now - dt.timedelta(days=40), status=TicketStatus.IN_PROGRESS)
    resolved = factory(
        created_at=now - dt.timedelta(days=3), status=TicketStatus.IN_PROGRESS, assigned_to_agent=superuser
    )
    services.ticket_resolve(ticket=resolved, resolution="Done.", actor=superuser)
    factory(created_at=now - dt.timedelta(days=400), status=TicketStatus.CLOSED)
    cl = _changelist(Ticket, superuser)
    assert len(cl.result_list) == 4
    assert _lean_rows(cl) == _django_rows(cl)


@pytest.mark.django_db
def test_every_change_list_page_renders_its_rows_through_the_lean_renderer(admin_client, monkeypatch):
    """``templates/admin/change_list.html`` puts the renderer in every list page (the
    project's own list templates extend it)."""
    from customer_ops.models import Order

    FACTORIES[Order].create_batch(2)
    calls = []
    real = admin_rows.RowRenderer.rows
    monkeypatch.setattr(admin_rows.RowRenderer, "rows", lambda self: calls.append(self) or real(self))
    page = admin_client.get(reverse("admin:customer_ops_order_changelist"))
    assert page.status_code == 200 and len(calls) == 1
    assert page.content.decode().count('class="action-select"') == 2


# Admins listing their integer key as a column (the plain-digits shortcut's cells).
INTEGER_KEYED = [
    m
    for m in MODELS
    if isinstance(m._meta.pk, (models.AutoField, models.BigAutoField)) and "id" in admin.site._registry[m].list_display
]


@pytest.mark.django_db
@pytest.mark.parametrize("separator", [False, True], ids=["plain", "thousands"])
@pytest.mark.parametrize("model", INTEGER_KEYED[:4], ids=lambda m: m._meta.db_table)
def test_integer_cells_follow_the_thousand_separator_setting(superuser, model, separator, settings):
    """Integer cells are shown as their digits only while no thousand separator is set."""
    settings.USE_THOUSAND_SEPARATOR = separator
    FACTORIES[model](pk=1234567)
    cl = _changelist(model, superuser)
    rows = _lean_rows(cl)
    assert rows == _django_rows(cl)
    assert any((">1,234,567<" if separator else ">1234567<") in row for row in rows)


@pytest.mark.django_db
def test_odd_values_in_direct_cells_are_still_djangos(superuser, monkeypatch):
    """The direct cells (RowRenderer._direct_cell) leave whatever is not their common case
    to the general path: a value outside the choices, a blank one, a missing relation, and
    a callable's blank text, date, or missing object."""
    from django.core.exceptions import ObjectDoesNotExist

    from fraud.models import FraudAlert

    FACTORIES[FraudAlert].create_batch(6)
    model_admin = admin.site._registry[FraudAlert]
    odd = {}

    def summary(obj):
        value = odd.get(obj.pk, "ok")
        if value is ObjectDoesNotExist:
            raise ObjectDoesNotExist
        return value

    monkeypatch.setattr(model_admin, "action_summary", summary)
    cl = _changelist(FraudAlert, superuser)
    rows = cl.result_list = list(cl.result_list)
    rows[0].alert_type, rows[1].alert_type = "NOT_A_TYPE", "  "
    rows[2].customer = None
    odd.update({rows[3].pk: "   ", rows[4].pk: dt.date(2026, 1, 2), rows[5].pk: ObjectDoesNotExist})
    assert _lean_rows(cl) == _django_rows(cl)
    assert 'class="field-action_summary nowrap"' in _lean_rows(cl)[4]
