"""The agent's workspace: ticket links, presence, saved views and the team report tables."""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from customer_ops.roles import Role, grant

# The lead's team report reads support_agent_weekly: "view" of it is the report's right.
REPORT_GRANT = grant("tickets", {"agentweekly": [Role.LEAD]})


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0069_refunds_within_paid"),
        ("customer_ops", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CategoryWeekly",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("week", models.DateField()),
                ("resolved", models.IntegerField()),
                ("first_replies", models.IntegerField()),
                ("first_reply_median", models.DecimalField(decimal_places=1, max_digits=12, null=True)),
                ("resolution_median", models.DecimalField(decimal_places=1, max_digits=12, null=True)),
                ("sla_met", models.IntegerField()),
                ("ratings", models.IntegerField()),
                ("rating_sum", models.IntegerField()),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "issue_category",
                    models.TextField(
                        choices=[
                            ("ORDER", "Order"),
                            ("PAYMENT", "Payment"),
                            ("DELIVERY", "Delivery"),
                            ("REFUND", "Refund"),
                            ("ACCOUNT", "Account"),
                            ("TECHNICAL", "Technical"),
                        ]
                    ),
                ),
            ],
            options={
                "db_table": "support_category_weekly",
                "ordering": ["-week", "issue_category"],
                "constraints": [
                    models.UniqueConstraint(fields=("week", "issue_category"), name="support_category_weekly_unique"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("issue_category__in", ["ORDER", "PAYMENT", "DELIVERY", "REFUND", "ACCOUNT", "TECHNICAL"])
                        ),
                        name="support_category_weekly_issue_category_valid",
                        violation_error_message="issue_category must be one of ORDER, PAYMENT, DELIVERY, REFUND, ACCOUNT, TECHNICAL.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.TextField(choices=[("MERGED", "Merged into"), ("SPLIT", "Split from")])),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        default=django.utils.timezone.now,
                        editable=False,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_column="created_by",
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links_out",
                        to="tickets.ticket",
                    ),
                ),
                (
                    "target",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links_in",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "db_table": "ticket_links",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="TicketMessageMove",
            fields=[
                (
                    "message",
                    models.OneToOneField(
                        db_column="message_id",
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="move",
                        serialize=False,
                        to="tickets.ticketmessage",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        default=django.utils.timezone.now,
                        editable=False,
                    ),
                ),
                (
                    "link",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="moved_messages",
                        to="tickets.ticketlink",
                    ),
                ),
                (
                    "to_ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="messages_moved_in",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "db_table": "ticket_message_moves",
            },
        ),
        migrations.CreateModel(
            name="TicketPresence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "state",
                    models.TextField(
                        choices=[("VIEWING", "viewing"), ("REPLYING", "writing a reply"), ("NOTING", "writing a note")],
                        default="VIEWING",
                    ),
                ),
                ("seen_at", models.DateTimeField()),
                (
                    "ticket",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.ticket",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "db_table": "ticket_presence",
            },
        ),
        migrations.CreateModel(
            name="AgentWeekly",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("week", models.DateField()),
                ("resolved", models.IntegerField()),
                ("first_replies", models.IntegerField()),
                ("first_reply_median", models.DecimalField(decimal_places=1, max_digits=12, null=True)),
                ("resolution_median", models.DecimalField(decimal_places=1, max_digits=12, null=True)),
                ("sla_met", models.IntegerField()),
                ("ratings", models.IntegerField()),
                ("rating_sum", models.IntegerField()),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        db_column="agent_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "support_agent_weekly",
                "ordering": ["-week", "agent"],
                "constraints": [models.UniqueConstraint(fields=("week", "agent"), name="support_agent_weekly_unique")],
            },
        ),
        migrations.CreateModel(
            name="SavedQueueView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.TextField()),
                ("query", models.TextField(blank=True, db_default="", default="")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        default=django.utils.timezone.now,
                        editable=False,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "ticket_saved_views",
                "ordering": ["owner", django.db.models.functions.text.Lower("name")],
                "constraints": [
                    models.UniqueConstraint(
                        models.F("owner"),
                        django.db.models.functions.text.Lower("name"),
                        name="ticket_saved_views_name_once",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="ticketlink",
            index=models.Index(fields=["target", "kind"], name="ticket_links_target_idx"),
        ),
        migrations.AddConstraint(
            model_name="ticketlink",
            constraint=models.UniqueConstraint(fields=("source", "kind"), name="ticket_links_source_once"),
        ),
        migrations.AddConstraint(
            model_name="ticketlink",
            constraint=models.CheckConstraint(
                condition=models.Q(("source", models.F("target")), _negated=True), name="ticket_links_not_self"
            ),
        ),
        migrations.AddConstraint(
            model_name="ticketlink",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["MERGED", "SPLIT"])),
                name="ticket_links_kind_valid",
                violation_error_message="kind must be one of MERGED, SPLIT.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticketpresence",
            constraint=models.UniqueConstraint(fields=("ticket", "user"), name="ticket_presence_once"),
        ),
        migrations.AddConstraint(
            model_name="ticketpresence",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["VIEWING", "REPLYING", "NOTING"])),
                name="ticket_presence_state_valid",
                violation_error_message="state must be one of VIEWING, REPLYING, NOTING.",
            ),
        ),
        # Presence is a heartbeat: worth nothing after a crash, so no write-ahead log for it.
        migrations.RunSQL("ALTER TABLE ticket_presence SET UNLOGGED", "ALTER TABLE ticket_presence SET LOGGED"),
        migrations.RunPython(*REPORT_GRANT),
    ]
