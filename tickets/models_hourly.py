"""``support_ticket_hourly``: the dashboard's live support days, kept by triggers.

Not a spec table: tickets opened (by ``created_at``) and resolved (by ``resolved_at``) per
UTC hour, service and category, kept by statement-level triggers on ``customer_tickets``
(migration 0073_support_ticket_hourly) the way ``analytics_platform_hourly`` is kept on
orders, so that the "tickets opened and resolved per day" chart reads its last ``RAW_DAYS``
days from at most 48 rows per service and category instead of every ticket of those days
(about 9,000 at 300,000 customers). Older days come from ``support_ticket_daily``
(``run_daily_jobs``), as before.

Each statement adds its net change once per hour and key, so the figures equal the plain
count of the tickets at every commit: a resolution (``resolved_at`` set), a reopening
(cleared), a category or service corrected, a delete. An UPDATE that moves no figure (a
reply, an assignment, an erasure's scrub) nets to nothing and writes nothing. Hours whose
figures fall to zero are deleted. ``generate_data``, which loads with triggers off,
rebuilds it (``support_ticket_hourly_rebuild()``).
"""

from __future__ import annotations

from functools import partial

from django.contrib.postgres.fields import ArrayField
from django.db import models

from customer_ops import counter_triggers, db
from customer_ops.choices import ServiceType
from tickets.choices import IssueCategory


class TicketHourly(models.Model):
    hour = models.DateTimeField()  # the UTC hour's start
    service_type = models.TextField(choices=ServiceType.choices, null=True)
    issue_category = models.TextField(choices=IssueCategory.choices)
    opened = models.IntegerField(default=0, db_default=0)
    resolved = models.IntegerField(default=0, db_default=0)

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "support_ticket_hourly"
        verbose_name_plural = "support hourly figures"
        ordering = ["-hour", "service_type", "issue_category"]
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "service_type", "issue_category"],
                name="support_ticket_hourly_unique",
                nulls_distinct=False,
            ),
            db.enum_check("support_ticket_hourly", "service_type", ServiceType, null=True),
            db.enum_check("support_ticket_hourly", "issue_category", IssueCategory),
            # No check on the counts: PostgreSQL checks an upsert's proposed row (the delta,
            # which may be negative) before it finds the conflict. Zero rows are deleted.
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.service_type or '-'} {self.issue_category}"


# Recompute every row from the source: for loads that skip triggers (generate_data).
rebuild_ticket_hourly = partial(counter_triggers.rebuild, "support_ticket_hourly")


class CategoryResolvedDaily(models.Model):
    """``support_category_resolved``: the resolution-time histogram of the tickets resolved
    each UTC day, per category, over every service, in ``CATEGORY_BUCKET_EDGES`` buckets, kept
    by triggers on ``customer_tickets`` (migration 0075_support_category_resolved) so that the
    default view's median reads its live days' buckets from two rows a category instead of
    every ticket resolved since yesterday. Older days come from ``support_category_daily``
    (the job's, whose counts match the job's minutes). Days whose histogram falls to zero
    are deleted; ``generate_data`` rebuilds it (``support_category_resolved_rebuild()``)."""

    day = models.DateField()
    issue_category = models.TextField(choices=IssueCategory.choices)
    resolution_histogram = ArrayField(models.IntegerField())

    # No personal_data declaration: platform-wide counts, no customer column.

    class Meta:
        db_table = "support_category_resolved"
        verbose_name_plural = "support category resolved figures"
        ordering = ["-day", "issue_category"]
        constraints = [
            models.UniqueConstraint(fields=["day", "issue_category"], name="support_category_resolved_unique"),
            db.enum_check("support_category_resolved", "issue_category", IssueCategory),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.issue_category}"


# Recompute every row from the source: for loads that skip triggers (generate_data).
rebuild_category_resolved = partial(counter_triggers.rebuild, "support_category_resolved")
