"""The agent's workspace: ticket links (merge, split), presence, saved queue views, and the
lead's team report tables. Project tables beside the spec's, which stay exactly as specified.

Imported by :mod:`tickets.models` (Django finds them there).

Merge and split *link* rather than move: ``customer_ticket_messages.ticket_id`` is a
never-update column of the spec (the write-rule trigger refuses any UPDATE of it), so a
message stays on the ticket the customer wrote it to. A merged ticket's thread is shown on
its target (:class:`TicketLink`, kind MERGED, followed transitively), and a split moves the
*display* of chosen messages to the new ticket (:class:`TicketMessageMove`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from customer_ops import db
from customer_ops.personal_data import ENUM, Export, PersonalData
from tickets.choices import IssueCategory


class TicketLinkKind(models.TextChoices):
    MERGED = "MERGED", "Merged into"
    SPLIT = "SPLIT", "Split from"


class TicketLink(models.Model):
    """``ticket_links``: ``source`` was merged into ``target`` (MERGED: ``source`` is the closed
    duplicate), or was split off ``target`` (SPLIT: ``source`` is the new ticket).

    Read by the thread of a ticket (the sources merged into it, transitively: one recursive
    query), and by both tickets' pages ("merged into", "split from"). Written only by
    ``tickets.services.links``; never changed (a merge is final, as closing is).
    """

    kind = models.TextField(choices=TicketLinkKind.choices)
    source = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="links_out", db_index=False
    )  # the unique constraint below indexes it
    target = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="links_in", db_index=False)
    created_by = db.staff("created_by")
    created_at = db.created_at()

    personal_data = PersonalData(
        text={"kind": ENUM},
        customer_path="source__customer",
        keep_rows="How two tickets of the customer relate: ids and a code, no personal columns.",
        export=Export(columns=(), withheld="Internal record of the support team's own work on the tickets."),
    )

    class Meta:
        db_table = "ticket_links"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A ticket is merged once and split off once (the "already merged" refusal's backstop).
            models.UniqueConstraint(fields=["source", "kind"], name="ticket_links_source_once"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="ticket_links_not_self"),
            db.enum_check("ticket_links", "kind", TicketLinkKind),
        ]
        indexes = [
            # The thread's recursive "tickets merged into this one" and the page's links.
            models.Index(fields=["target", "kind"], name="ticket_links_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class TicketMessageMove(models.Model):
    """``ticket_message_moves``: a message shown on ``to_ticket`` instead of its own ticket
    (a split). The message row itself is never changed (its ``ticket_id`` is never-update)."""

    message = models.OneToOneField(
        "tickets.TicketMessage", on_delete=models.PROTECT, primary_key=True, related_name="move", db_column="message_id"
    )
    link = models.ForeignKey(TicketLink, on_delete=models.PROTECT, related_name="moved_messages")
    to_ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="messages_moved_in"
    )  # indexed: the new ticket's thread reads it
    created_at = db.created_at()

    personal_data = PersonalData(
        customer_path="to_ticket__customer",
        keep_rows="Where a message of the customer is shown: ids only.",
        export=Export(columns=(), withheld="Internal record of the support team's own work on the tickets."),
    )

    class Meta:
        db_table = "ticket_message_moves"

    def __str__(self) -> str:
        return f"Message {self.message_id} shown on ticket {self.to_ticket_id}"


class PresenceState(models.TextChoices):
    VIEWING = "VIEWING", "viewing"
    REPLYING = "REPLYING", "writing a reply"
    NOTING = "NOTING", "writing a note"


class TicketPresence(models.Model):
    """``ticket_presence``: who has a ticket open now, refreshed by the page's heartbeat.

    An UNLOGGED table (migration 0070): a heartbeat is worth nothing after a crash, and
    skipping the write-ahead log keeps the once-every-few-seconds upsert cheap. A row is
    "present" while ``seen_at`` is within ``tickets.conf.presence_ttl()``; old rows are
    simply ignored (and pruned by the heartbeat's own upsert of the same key). Never in the
    audit log: it records nothing about the customer.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.TextField(choices=PresenceState.choices, default=PresenceState.VIEWING)
    seen_at = models.DateTimeField()

    # No personal_data declaration needed beyond the path: staff ids, a state code and a time.
    personal_data = PersonalData(
        text={"state": ENUM},
        customer_path="ticket__customer",
        keep_rows="Staff presence on a ticket, seconds old: no personal columns.",
        export=Export(columns=(), withheld="Transient record of which staff member has the ticket open."),
    )

    class Meta:
        db_table = "ticket_presence"
        constraints = [
            # One row per person and ticket (the heartbeat upserts it); also the index of
            # "who is on this ticket" and of the queue's eye (ticket_id first).
            models.UniqueConstraint(fields=["ticket", "user"], name="ticket_presence_once"),
            db.enum_check("ticket_presence", "state", PresenceState),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on ticket {self.ticket_id}: {self.state}"


class SavedQueueView(models.Model):
    """``ticket_saved_views``: an agent's own named view of the queue (its filters, search
    and order, as the queue's query string). Checked again every time it is used, since a
    field may have become confidential since it was saved."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.TextField()
    query = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    class Meta:
        db_table = "ticket_saved_views"
        ordering = ["owner", Lower("name")]
        constraints = [
            # Also the index of "my views" (owner first).
            models.UniqueConstraint("owner", Lower("name"), name="ticket_saved_views_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


# --- The lead's team report, kept by tickets.jobs.run_team_weekly ------------------------


class _WeeklyFigures(models.Model):
    """The figures of one group of tickets resolved in one week (Monday, UTC)."""

    week = models.DateField()
    resolved = models.IntegerField()
    first_replies = models.IntegerField()  # resolved tickets with an agent reply
    first_reply_median = models.DecimalField(max_digits=12, decimal_places=1, null=True)  # minutes
    resolution_median = models.DecimalField(max_digits=12, decimal_places=1, null=True)  # minutes
    sla_met = models.IntegerField()  # both targets met (first response and resolution)
    ratings = models.IntegerField()
    rating_sum = models.IntegerField()
    updated_at = db.updated_at()

    class Meta:
        abstract = True

    @property
    def sla_met_share(self):
        return None if not self.resolved else self.sla_met / self.resolved

    @property
    def rating_average(self):
        return None if not self.ratings else self.rating_sum / self.ratings


class AgentWeekly(_WeeklyFigures):
    """``support_agent_weekly``: per agent (``resolved_by``) and week of ``resolved_at``."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_column="agent_id", db_index=False
    )

    class Meta:
        db_table = "support_agent_weekly"
        ordering = ["-week", "agent"]
        constraints = [models.UniqueConstraint(fields=["week", "agent"], name="support_agent_weekly_unique")]

    def __str__(self) -> str:
        return f"{self.week} agent {self.agent_id}"

    @property
    def agent_name(self) -> str:
        return self.agent.get_full_name() or self.agent.get_username()


class CategoryWeekly(_WeeklyFigures):
    """``support_category_weekly``: per issue category and week of ``resolved_at``."""

    issue_category = models.TextField(choices=IssueCategory.choices)

    class Meta:
        db_table = "support_category_weekly"
        ordering = ["-week", "issue_category"]
        constraints = [
            models.UniqueConstraint(fields=["week", "issue_category"], name="support_category_weekly_unique"),
            db.enum_check("support_category_weekly", "issue_category", IssueCategory),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.issue_category}"
