"""Database rules of the support tables beyond the write rules (customer_ops.write_rules).

:class:`RefundsWithinPaid`: the approved amounts of an order's refund requests together
never exceed what the order was paid, as a payment processor refuses a refund above the
charge. ``tickets.services.refunds.refund_approve`` checks the same rule first, with a
message for the lead; this trigger is the backstop for every other writer (raw SQL, other
services of the platform, bulk loads), declared on the model so that a migration installs it.
"""

from __future__ import annotations

import pgtrigger

from customer_ops.write_rules import StrictTrigger
from tickets.choices import REFUND_APPROVED_STATUSES


class RefundsWithinPaid(StrictTrigger):
    """BEFORE INSERT OR UPDATE of a refund request that is (or becomes) approved.

    *What was paid* is the order's ``order_amount``: what the customer was charged (the
    architecture's ``total_spent``; the discount is already taken off it, ``total_saved``,
    and the tip goes to the courier). An approved request counts its ``approved_amount``,
    or its ``requested_amount`` if a writer left the approved amount empty (the larger
    reading: nothing slips through a missing amount).

    It locks the order row (``SELECT ... FOR UPDATE``) before it sums the order's other
    approved requests, so two approvals of one order's requests at once are taken one after
    the other: the second one's sum (a new snapshot per statement, READ COMMITTED) sees the
    first once it committed. An UPDATE that keeps an approved request's amount (processing,
    completing, erasure redacting its text) neither locks nor sums.

    Tables are schema-qualified (``public.``): the runtime role may create TEMP tables, which
    come first in the search path and would otherwise stand in for ``orders``. A
    :class:`~customer_ops.write_rules.StrictTrigger`: no ``pgtrigger.ignore`` skips it.
    """

    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update

    def get_condition(self, model):
        return pgtrigger.Condition(f"NEW.{model._meta.get_field('refund_status').column} IN ({_statuses()})")

    def get_declare(self, model):
        return [("paid", "numeric"), ("approved", "numeric")]

    def get_func(self, model):
        meta = model._meta
        table = f"public.{meta.db_table}"
        orders = f"public.{meta.get_field('order').related_model._meta.db_table}"
        order_id = meta.get_field("order").column
        status = meta.get_field("refund_status").column
        approved, requested = (meta.get_field(f).column for f in ("approved_amount", "requested_amount"))
        amount = f"COALESCE({{0}}{approved}, {{0}}{requested})"
        return f"""
            IF TG_OP = 'UPDATE' AND OLD.{status} IN ({_statuses()}) AND OLD.{order_id} = NEW.{order_id}
               AND {amount.format("OLD.")} = {amount.format("NEW.")} THEN
                RETURN NEW;
            END IF;
            SELECT o.order_amount INTO paid FROM {orders} o WHERE o.id = NEW.{order_id} FOR UPDATE;
            SELECT COALESCE(SUM({amount.format("r.")}), 0) INTO approved
              FROM {table} r
             WHERE r.{order_id} = NEW.{order_id} AND r.id IS DISTINCT FROM NEW.id AND r.{status} IN ({_statuses()});
            approved := approved + {amount.format("NEW.")};
            IF approved > paid THEN
                RAISE EXCEPTION
                    '{meta.db_table}: the approved refunds of order % would total %, more than the % paid',
                    NEW.{order_id}, approved, paid
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        """


def _statuses() -> str:
    return ", ".join(f"'{s}'" for s in REFUND_APPROVED_STATUSES)


def refunds_within_paid() -> RefundsWithinPaid:
    return RefundsWithinPaid(name="refunds_within_paid")


# --- The queue's order: each open ticket's SLA due time, kept in an indexed side table ----
#
# ``tickets_queue_order`` (TicketQueueSlot) holds one row per open ticket with the queue's
# sort key (SLA due time, priority rank, created_at), so the queue reads its first page from
# an index instead of computing the due time of every open ticket and sorting them. Every
# change that moves a ticket's key fires one of the triggers below, and each calls the one
# SQL function that computes the key (``tickets_queue_refresh``, migration
# 0072_queue_order), so there is a single definition of the due time in SQL:
#
# * a ticket inserted, or its status, priority or assignee changed (QueueSlotOnTicket);
# * its first agent reply recorded or removed (QueueSlotOnFirstReply; the side table
#   ``tickets_first_response`` is itself kept by triggers on the messages);
# * the SLA targets changed (QueueRebuildOnTargets: every open ticket rewritten); the
#   targets are ``settings.SUPPORT_SLA`` copied into ``tickets_sla_targets`` by
#   ``tickets.queue_order.sync_sla_targets``.


class QueueSlotOnTicket(StrictTrigger):
    """AFTER INSERT, or UPDATE of the status, priority or assignee, of a ticket. (A WHEN clause
    cannot read OLD on INSERT OR UPDATE, so the function skips the other updates.)"""

    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update

    def get_func(self, model):
        return """
            IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
               AND OLD.priority IS NOT DISTINCT FROM NEW.priority
               AND OLD.assigned_to_agent_id IS NOT DISTINCT FROM NEW.assigned_to_agent_id THEN
                RETURN NULL;
            END IF;
            PERFORM public.tickets_queue_refresh(ARRAY[NEW.id]::bigint[]);
            RETURN NULL;
        """


class QueueSlotOnFirstReply(StrictTrigger):
    """AFTER INSERT, UPDATE or DELETE of a ticket's first-reply row: its due time moves from
    the first-response target to the resolution target (or back)."""

    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete

    def get_func(self, model):
        return """
            IF TG_OP = 'DELETE' THEN
                PERFORM public.tickets_queue_refresh(ARRAY[OLD.ticket_id]::bigint[]);
            ELSE
                PERFORM public.tickets_queue_refresh(ARRAY[NEW.ticket_id]::bigint[]);
            END IF;
            RETURN NULL;
        """


class QueueRebuildOnTargets(StrictTrigger):
    """AFTER any change of the SLA targets: every open ticket's due time is rewritten."""

    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete
    level = pgtrigger.Statement

    def get_func(self, model):
        return "PERFORM public.tickets_queue_refresh(NULL); RETURN NULL;"
