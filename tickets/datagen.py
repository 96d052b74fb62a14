"""Support's scale data for ``manage.py generate_data`` (the COPY engine: ``customer_ops.datagen``):
tickets with their messages, refund requests and disputes, on the platform's orders."""

from __future__ import annotations

from customer_ops.datagen import NULL, Generator, connection
from customer_ops.db_roles import OWNER
from customer_ops.registry import register_scale_data
from tickets.models_hourly import rebuild_category_resolved, rebuild_ticket_hourly
from tickets.queue_order import rebuild_queue_order

PER_CUSTOMER = {
    "customer_tickets": 3,
    "customer_ticket_messages": 15,  # 5 per ticket
    "customer_refund_requests": 0.3,
    "customer_disputes": 0.05,
}
OPEN_TICKET_STATUSES = ("OPEN", "IN_PROGRESS")
CLOSED_TICKET_STATUSES = ("RESOLVED", "CLOSED")
STALE_OPEN_TICKETS = 0.01  # tickets left open past their resolution time, whatever their age


def generate_tickets_and_messages(gen: Generator) -> None:
    first = gen.next_id("customer_tickets")
    target = gen.target("customer_tickets")
    rng = gen.rng
    priorities = ["LOW", "MEDIUM", "MEDIUM", "HIGH", "URGENT", "CRITICAL"]
    categories = ["ORDER", "PAYMENT", "DELIVERY", "REFUND", "ACCOUNT", "TECHNICAL"]
    services = ["FOOD", "PARCEL", "RIDE", NULL]  # a quarter of the tickets are about no service
    created: list[tuple[int, int, int]] = []

    def rows():
        for k in range(target):
            tid = first + k
            customer = gen.random_customer()
            day, sec, ts = gen.rand_ts()
            # Resolution times spread like a support desk's: most within hours, a long
            # tail over days (the dashboard's median reads them). A ticket whose resolution
            # falls past the data's end is still open (the last hours' tickets), and a few
            # are left open whatever their age: the queue holds about a day of tickets, as a
            # desk's does, not a share of every month's.
            at = day * 86400 + sec + int(rng.expovariate(1 / 700) * 60) + 60
            still_open = at >= gen.days * 86400 or rng.random() < STALE_OPEN_TICKETS
            status = rng.choice(OPEN_TICKET_STATUSES if still_open else CLOSED_TICKET_STATUSES)
            done = not still_open
            at = min(at, gen.days * 86400 - 1)
            minutes = (at - day * 86400 - sec) // 60
            resolved = gen.ts(at // 86400, at % 86400)
            created.append((tid, customer, day * 86400 + sec))
            yield (
                str(tid),
                str(customer),
                services[int(rng.random() * 4)],
                categories[int(rng.random() * 6)],
                "Order problem",
                "Something went wrong with my order.",
                priorities[int(rng.random() * 6)],
                status,
                "Resolved with a refund." if done else "",
                str(minutes) if done else NULL,
                resolved if done else NULL,
                ts,
                ts,
            )

    cols = [
        "id",
        "customer_id",
        "service_type",
        "issue_category",
        "subject",
        "description",
        "priority",
        "status",
        "resolution",
        "resolution_time_minutes",
        "resolved_at",
        "created_at",
        "updated_at",
    ]
    gen.copy("customer_tickets", cols, rows(), target)
    gen.reset_sequence("customer_tickets")

    per_ticket = int(PER_CUSTOMER["customer_ticket_messages"] / PER_CUSTOMER["customer_tickets"])

    def messages():
        for tid, customer, at in created:
            for j in range(per_ticket):
                second = min(at + j * 600, gen.days * 86400 - 1)
                sender = "CUSTOMER" if j % 2 == 0 else "AGENT"
                yield (
                    str(tid),
                    "Thanks, looking into it." if sender == "AGENT" else "Any update on my order?",
                    "TEXT",
                    sender,
                    str(customer) if sender == "CUSTOMER" else NULL,
                    sender.title(),
                    "t",
                    gen.ts(second // 86400, second % 86400),
                )

    cols = [
        "ticket_id",
        "message_text",
        "message_type",
        "sender_type",
        "sender_id",
        "sender_name",
        "is_read",
        "created_at",
    ]
    gen.copy("customer_ticket_messages", cols, messages(), len(created) * per_ticket)
    created.clear()
    # The first agent reply per ticket, which a trigger keeps on every other write (the
    # load skips triggers): the queue's SLA reads it.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tickets_first_response (ticket_id, first_response_at)
            SELECT ticket_id, min(created_at) FROM customer_ticket_messages
            WHERE sender_type = 'AGENT' AND ticket_id >= %s GROUP BY ticket_id
            ON CONFLICT (ticket_id) DO UPDATE
            SET first_response_at = LEAST(tickets_first_response.first_response_at, EXCLUDED.first_response_at)
            """,
            [first],
        )
    # The queue's order of the open tickets (tickets_queue_order), which triggers keep too.
    # On the load's own (owner) connection: another session would wait for the load's
    # uncommitted rows, and the load for it.
    rebuild_queue_order(using=OWNER)


def generate_refunds_and_disputes(gen: Generator) -> None:
    rng, sample = gen.rng, gen.order_sample
    target = gen.target("customer_refund_requests")

    refunded: set[int] = set()  # orders with an approved full refund

    def refunds():
        for _ in range(target):
            oid, customer, amount = sample[int(rng.random() * len(sample))]
            day, sec, ts = gen.rand_ts()
            status = ["PENDING", "APPROVED", "REJECTED", "COMPLETED"][int(rng.random() * 4)]
            if status in ("APPROVED", "COMPLETED"):
                # Approved refunds of an order never exceed what it was paid (the database
                # refuses more): a second full refund of an order is rejected.
                status = "REJECTED" if oid in refunded else status
                refunded.add(oid)
            yield (
                str(customer),
                str(oid),
                "FULL",
                "Missing items",
                amount,
                amount if status in ("APPROVED", "COMPLETED") else NULL,
                status,
                ts,
                ts,
            )

    cols = [
        "customer_id",
        "order_id",
        "refund_type",
        "refund_reason",
        "requested_amount",
        "approved_amount",
        "refund_status",
        "created_at",
        "updated_at",
    ]
    gen.copy("customer_refund_requests", cols, refunds(), target)

    target = gen.target("customer_disputes")

    def disputes():
        for _ in range(target):
            oid, customer, amount = sample[int(rng.random() * len(sample))]
            day, sec, ts = gen.rand_ts()
            yield (
                str(customer),
                str(oid),
                "QUALITY",
                "Not as described",
                "MERCHANT",
                amount,
                ["OPEN", "INVESTIGATING", "RESOLVED"][int(rng.random() * 3)],
                ts,
                ts,
            )

    cols = [
        "customer_id",
        "order_id",
        "dispute_type",
        "dispute_reason",
        "disputed_against",
        "disputed_amount",
        "dispute_status",
        "created_at",
        "updated_at",
    ]
    gen.copy("customer_disputes", cols, disputes(), target)


def generate_support(gen: Generator) -> None:
    generate_tickets_and_messages(gen)
    generate_refunds_and_disputes(gen)


register_scale_data(
    key="tickets",
    generate=generate_support,
    order=20,
    per_customer=PER_CUSTOMER,
    # the refund cap (tickets.triggers) sums an order's approved refund requests per approved row
    keep_indexes={"customer_refund_requests": ("order_id",)},
)
# After the tickets' load (on the load's connection): it skips the triggers that keep the
# dashboard's live support hours and histograms. Rows derive from the tickets: no share per customer (0).
register_scale_data(
    key="support_ticket_hourly",
    generate=lambda gen: rebuild_ticket_hourly(OWNER),
    order=92,
    per_customer={"support_ticket_hourly": 0},
)
register_scale_data(
    key="support_category_resolved",
    generate=lambda gen: rebuild_category_resolved(OWNER),
    order=93,
    per_customer={"support_category_resolved": 0},
)
