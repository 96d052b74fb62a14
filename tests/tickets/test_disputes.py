"""Dispute workflow services: every transition, its refusal, and bad input."""

from __future__ import annotations

import datetime as dt
import inspect
import random
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import AuditLog
from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import explain, unchanged
from tickets.choices import DisputeStatus, DisputeType
from tickets.models import Dispute
from tickets.services import disputes as svc

pytestmark = pytest.mark.django_db

# What a refused call could have written: each refusal re-reads it (tests/README.md).
APP_TABLES = tuple(apps.get_app_config("tickets").get_models())  # with their history tables


@pytest.fixture
def legal(make_staff):
    return make_staff(Role.LEGAL)


@pytest.fixture
def dispute():
    return f.DisputeFactory(disputed_amount=Decimal("40.00"), disputed_against="MERCHANT", disputed_against_id=1001)


def _status(d):
    return Dispute.objects.get(pk=d.pk).dispute_status


ALLOWED = [
    ("OPEN", "INVESTIGATING"),
    ("OPEN", "ESCALATED"),
    ("INVESTIGATING", "ESCALATED"),
    ("INVESTIGATING", "RESOLVED"),
    ("INVESTIGATING", "REJECTED"),
    ("ESCALATED", "INVESTIGATING"),
    ("ESCALATED", "RESOLVED"),
    ("ESCALATED", "REJECTED"),
]
ALL = ["OPEN", "INVESTIGATING", "ESCALATED", "RESOLVED", "REJECTED"]
REFUSED = [(a, b) for a in ALL for b in ALL if b != "OPEN" and (a, b) not in ALLOWED]


def _move(dispute, target, actor):
    if target == "INVESTIGATING":
        return svc.dispute_start_investigation(dispute=dispute, actor=actor)
    if target == "ESCALATED":
        return svc.dispute_escalate(dispute=dispute, actor=actor, note="needs the merchant's lawyer")
    if target == "RESOLVED":
        return svc.dispute_resolve(
            dispute=dispute, resolution="Partial refund", resolution_amount="15.00", refund_amount="15.00", actor=actor
        )
    return svc.dispute_reject(dispute=dispute, resolution="Evidence shows delivery", actor=actor)


@pytest.mark.parametrize(("start", "target"), ALLOWED)
def test_allowed_transition_changes_status_and_writes_audit_and_history(dispute, legal, start, target):
    Dispute.objects.filter(pk=dispute.pk).update(dispute_status=start)
    _move(dispute, target, legal)
    dispute.refresh_from_db()
    assert dispute.dispute_status == target
    entry = AuditLog.objects.filter(customer=dispute.customer, action_field="dispute.dispute_status").latest("id")
    assert (entry.old_value, entry.new_value) == (start, target)
    assert dispute.history.latest().history_user == legal
    if target in {"RESOLVED", "REJECTED"}:
        assert dispute.resolved_by == legal and dispute.resolved_at is not None


@pytest.mark.parametrize(("start", "target"), REFUSED)
def test_refused_transition_changes_nothing(dispute, legal, start, target):
    Dispute.objects.filter(pk=dispute.pk).update(dispute_status=start)
    before = AuditLog.objects.count()
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError):
        _move(dispute, target, legal)
    assert _status(dispute) == start
    assert AuditLog.objects.count() == before


def test_resolution_amount_above_disputed_amount_is_refused(dispute, legal):
    svc.dispute_start_investigation(dispute=dispute, actor=legal)
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match="cannot exceed the disputed amount"):
        svc.dispute_resolve(dispute=dispute, resolution="Full", resolution_amount="40.01", actor=legal)
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match="cannot exceed"):
        svc.dispute_resolve(dispute=dispute, resolution="Full", resolution_amount="10", refund_amount="41", actor=legal)
    assert _status(dispute) == "INVESTIGATING"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": "", "resolution_amount": "5"}, "resolution"),
        ({"resolution": "ok", "resolution_amount": None}, "resolution amount"),
        ({"resolution": "ok", "resolution_amount": "-1"}, "negative"),
        ({"resolution": "ok", "resolution_amount": "abc"}, "amount"),
        ({"resolution": "ok", "resolution_amount": "1.234"}, "decimals"),
    ],
)
def test_bad_resolution_input_is_refused(dispute, legal, kwargs, message):
    svc.dispute_start_investigation(dispute=dispute, actor=legal)
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match=message):
        svc.dispute_resolve(dispute=dispute, actor=legal, **kwargs)
    assert _status(dispute) == "INVESTIGATING"


def test_reject_and_escalate_need_a_reason(dispute, legal):
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError):
        svc.dispute_escalate(dispute=dispute, actor=legal, note=" ")
    svc.dispute_start_investigation(dispute=dispute, actor=legal)
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError):
        svc.dispute_reject(dispute=dispute, resolution="", actor=legal)
    assert _status(dispute) == "INVESTIGATING"


def test_create_validates_party_order_ticket_and_evidence(legal):
    customer = f.CustomerFactory()
    order = f.OrderFactory(customer=customer)
    base = dict(
        customer=customer,
        order=order,
        dispute_type="QUALITY",
        dispute_reason="Cold",
        disputed_against="MERCHANT",
        disputed_against_id=1001,
        disputed_amount=Decimal("10.00"),
    )
    created = svc.dispute_create(actor=legal, **base, evidence_urls=["https://files.test/a.jpg"])
    assert created.dispute_id.startswith("DSP-") and created.dispute_status == "OPEN"
    assert AuditLog.objects.filter(customer=customer, action_type="CREATE", new_value=created.dispute_id).exists()
    for change, message in [
        ({"disputed_against_id": None}, "id of the merchant"),
        ({"order": f.OrderFactory()}, "another customer"),
        ({"ticket": f.TicketFactory()}, "another customer"),
        ({"evidence_urls": ["javascript:alert(1)"]}, "valid"),
        ({"disputed_amount": Decimal("-1")}, "negative"),
        ({"dispute_reason": ""}, "reason"),
    ]:
        with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match=message):
            svc.dispute_create(actor=legal, **{**base, **change})
    assert Dispute.objects.filter(customer=customer).count() == 1


def test_only_the_legal_team_sets_legal_fields(dispute, legal, make_staff):
    agent = make_staff(Role.AGENT)
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match="legal team"):
        svc.dispute_update(dispute=dispute, actor=agent, legal_notes="sneaky")
    svc.dispute_update(dispute=dispute, actor=legal, legal_case_number="LC-2026-7", legal_notes="Counsel engaged")
    dispute.refresh_from_db()
    assert dispute.legal_case_number == "LC-2026-7"
    entries = AuditLog.objects.filter(action_field__startswith="dispute.legal")
    assert entries.count() == 2
    assert set(entries.values_list("new_value", flat=True)) == {None}  # values never reach the audit log
    assert not hasattr(dispute.history.model, "legal_notes")


def test_closed_dispute_details_are_frozen_but_legal_fields_are_not(dispute, legal):
    svc.dispute_start_investigation(dispute=dispute, actor=legal)
    svc.dispute_reject(dispute=dispute, resolution="No evidence", actor=legal)
    with unchanged(dispute, dispute.history.all()), pytest.raises(svc.DisputeError, match="closed"):
        svc.dispute_update(dispute=dispute, actor=legal, evidence_description="late")
    svc.dispute_update(dispute=dispute, actor=legal, legal_notes="archived")
    closed = Dispute.objects.get(pk=dispute.pk)
    assert closed.legal_notes == "archived" and closed.dispute_status == "REJECTED"
    assert closed.evidence_description != "late"
    entry = AuditLog.objects.get(action_field="dispute.legal_notes", customer=dispute.customer)
    assert entry.new_value is None  # recorded, without the value


def test_a_stale_version_is_refused(dispute, legal):
    stale = dispute.updated_at
    svc.dispute_update(dispute=dispute, actor=legal, evidence_description="first")
    with unchanged(*APP_TABLES), pytest.raises(svc.DisputeError, match="changed by someone else"):
        svc.dispute_update(dispute=dispute, actor=legal, expected_version=stale, evidence_description="second")


def test_deadline_and_action_required_order(legal, settings):
    now = timezone.now()
    fraud = f.DisputeFactory(dispute_type="FRAUD", created_at=now - dt.timedelta(days=1))  # 3 days
    overcharge = f.DisputeFactory(dispute_type="OVERCHARGE", created_at=now - dt.timedelta(days=9, hours=23))
    closed = f.DisputeFactory(dispute_status="RESOLVED")
    ordered = list(svc.action_required())
    assert [d.pk for d in ordered] == [overcharge.pk, fraud.pk]
    assert closed.pk not in [d.pk for d in ordered]
    fraud.refresh_from_db()
    assert svc.dispute_deadline(fraud).due_at == fraud.created_at + dt.timedelta(days=3)
    assert svc.dispute_deadline(fraud).state(now).value == "ok"


def test_action_required_slices_match_the_plain_order(settings):
    """ActionRequired reads each type's oldest open disputes: its slices are the plain
    order's, whatever the types, ties of creation time and closed disputes."""
    settings.DISPUTE_RESPONSE_DAYS = {"REFUND": 7, "QUALITY": 7, "NON_DELIVERY": 5, "FRAUD": 3}  # OVERCHARGE: none
    rng = random.Random(26)
    now = timezone.now()
    times = [now - dt.timedelta(days=rng.randrange(12), hours=rng.randrange(24)) for _ in range(6)]
    for _ in range(45):
        f.DisputeFactory(
            dispute_type=rng.choice(DisputeType.values),
            dispute_status=rng.choice(DisputeStatus.values),
            created_at=rng.choice(times),  # shared times: the id breaks the tie
        )
    plain = [d.pk for d in svc.action_required()]
    assert 0 < len(plain) < Dispute.objects.count()
    rows = svc.ActionRequired()
    assert rows.count() == len(rows) == len(plain)
    for start, stop in [(0, 3), (0, 1), (2, 9), (7, 8), (5, 100), (0, len(plain)), (4, 2)]:
        assert [d.pk for d in rows[start:stop]] == plain[start:stop], (start, stop)
    with pytest.raises(TypeError):
        rows[3:]


def test_action_required_reads_each_type_from_the_open_disputes_index():
    """No sort of every open dispute: each type's oldest are read in the index's order, and
    the one sort left is of those few."""
    for i in range(20):
        f.DisputeFactory(dispute_type=DisputeType.values[i % 5], dispute_status=DisputeStatus.values[i % 5])
    with CaptureQueriesContext(connection) as queries:
        svc.ActionRequired()[0:3]
    (sql,) = [q["sql"] for q in queries.captured_queries]
    plan = explain(sql, in_order=True)
    assert plan.text.count("Index Scan using disputes_open_due_idx") == len(DisputeType.values), plan.text
    assert len(re.findall(r"\bSort  \(", plan.text)) == 1, plan.text  # the final sort, of at most 3 a type
    assert "customer_disputes" not in plan.whole, plan.text


# --- every dispute service checks its own permission, whoever calls it -------------------

CALLS = {
    "dispute_create": lambda d, actor, **v: svc.dispute_create(
        actor=actor,
        customer=d.customer,
        dispute_type="OVERCHARGE",
        dispute_reason="Charged twice",
        disputed_against="PLATFORM",
        disputed_amount="5.00",
    ),
    "dispute_update": lambda d, actor, **v: svc.dispute_update(
        dispute=d, actor=actor, evidence_description="new evidence", **v
    ),
    "dispute_start_investigation": lambda d, actor, **v: svc.dispute_start_investigation(dispute=d, actor=actor, **v),
    "dispute_escalate": lambda d, actor, **v: svc.dispute_escalate(dispute=d, actor=actor, note="lawyer", **v),
    "dispute_resolve": lambda d, actor, **v: svc.dispute_resolve(
        dispute=d, resolution="Refunded", resolution_amount="5.00", actor=actor, **v
    ),
    "dispute_reject": lambda d, actor, **v: svc.dispute_reject(dispute=d, resolution="No evidence", actor=actor, **v),
}


def _roles_without(perm: str) -> list[Role]:
    """The roles whose group lacks ``perm``, read from the database's grants."""
    from django.contrib.auth.models import Group

    app_label, codename = perm.split(".")
    holders = set(
        Group.objects.filter(
            permissions__content_type__app_label=app_label, permissions__codename=codename
        ).values_list("name", flat=True)
    )
    return [role for role in Role if role.value not in holders]


def test_every_dispute_service_is_covered():
    public = {
        name
        for name, obj in vars(svc).items()
        if name.startswith("dispute_") and callable(obj) and "actor" in inspect.signature(obj).parameters
    }
    assert public == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_role_that_may_not_is_refused_by_the_service_itself(dispute, make_staff, name):
    """The admin hides the buttons; the service refuses anyway, as NotAllowed, writing nothing."""
    from customer_ops.context import SYSTEM, CallingSystem
    from customer_ops.errors import NotAllowed

    perm = svc.ADD if name == "dispute_create" else svc.CHANGE
    refused = _roles_without(perm)
    assert Role.LEGAL not in refused and len(refused) == len(Role) - 1
    if name in {"dispute_resolve", "dispute_reject"}:
        Dispute.objects.filter(pk=dispute.pk).update(dispute_status="INVESTIGATING")
    actors = [make_staff(role) for role in refused] + [make_staff(None), None, SYSTEM, CallingSystem("partner-app")]
    for actor in actors:
        with unchanged(*APP_TABLES, AuditLog), pytest.raises(NotAllowed):
            CALLS[name](dispute, actor)


@pytest.mark.parametrize("name", sorted(set(CALLS) - {"dispute_create"}))
def test_a_stale_expected_version_is_a_conflict(dispute, legal, name):
    from customer_ops.errors import Conflict

    if name in {"dispute_resolve", "dispute_reject"}:
        Dispute.objects.filter(pk=dispute.pk).update(dispute_status="INVESTIGATING")
    dispute.refresh_from_db()
    stale = dispute.updated_at
    svc.dispute_update(dispute=dispute, actor=legal, legal_notes="read meanwhile")  # someone else's change
    with unchanged(*APP_TABLES, AuditLog), pytest.raises(Conflict, match="changed by someone else"):
        CALLS[name](dispute, legal, expected_version=stale)
    dispute.refresh_from_db()
    CALLS[name](dispute, legal, expected_version=dispute.updated_at)  # the current one goes through
