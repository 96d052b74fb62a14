"""``{{ value|since }}``: the time since ``value`` in its largest unit ("3 days"), as the
queue's cells say it (:func:`customer_ops.durations.since`: each phrase translated once),
for the panels and pages that show one per row. Empty for no value."""

from __future__ import annotations

from django import template

from customer_ops import durations

register = template.Library()


@register.filter
def since(value) -> str:
    if not value:
        return ""
    return durations.since(value)
