"""django-filter filter sets of the analytics pages.

:class:`DashboardFilter` validates the dashboard's date range and service type; the
charts of every app receive its result as a plain dict (:func:`dashboard_filters`), so
they never parse the request themselves.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone

from customer_ops.choices import ServiceType
from customer_ops.models import Order

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year of daily points: charts stay readable and queries bounded


class DashboardForm(forms.Form):
    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if first > last:
                raise forms.ValidationError("The start date is after the end date.")
            if (last - first).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data


class DashboardFilter(django_filters.FilterSet):
    """Date range (UTC days, inclusive) and service type of the dashboard.

    The range filters ``created_at`` as a half-open timestamp range, never ``created_at::date``,
    so that ``orders_created_idx`` serves it.
    """

    date_from = django_filters.DateFilter(label="From", method="filter_from")
    date_to = django_filters.DateFilter(label="To", method="filter_to")
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, empty_label="All services")

    class Meta:
        model = Order
        fields = ["date_from", "date_to", "service_type"]
        form = DashboardForm

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_midnight(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_midnight(value + dt.timedelta(days=1)))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.now().astimezone(dt.UTC).date()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def dashboard_filters(data) -> tuple[DashboardFilter, dict]:
    """The bound filter set and the dict the charts get:

    ``first``/``last`` (dates, inclusive), ``start``/``end`` (UTC datetimes, half-open),
    ``days`` (every date of the range) and ``service_type`` (``""`` for all).
    Invalid input falls back to the defaults; the form carries the errors to show.
    """
    first, last = default_range()
    data = data.copy()
    data.setdefault("date_from", first.isoformat())
    data.setdefault("date_to", last.isoformat())
    filterset = DashboardFilter(data, queryset=Order.objects.all())
    service = ""
    if filterset.form.is_valid():
        first = filterset.form.cleaned_data["date_from"] or first
        last = filterset.form.cleaned_data["date_to"] or last
        service = filterset.form.cleaned_data.get("service_type") or ""
        if first > last:
            first, last = default_range()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return filterset, {
        "first": first,
        "last": last,
        "start": _midnight(first),
        "end": _midnight(last + dt.timedelta(days=1)),
        "days": days,
        "service_type": service,
    }
