"""Free text is personal data too (ARCHITECTURE.md): every text, JSON and array column of a
table with customer rows declares what erasure does to it, and after an erasure no
identifier of the customer is left in any text column of the database.

Both tests take the columns from the database catalog (tests/compliance/planting.py), so
a new table or column is covered without editing them.
"""

from __future__ import annotations

import dataclasses
import io

import pytest
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.core.management import call_command
from django.db import models

from compliance import scrub
from compliance.choices import ErasureState, RequestStatus
from compliance.models import DataDeletionRequest, ErasureRun
from compliance.services import deletion_request_approve, deletion_request_create
from customer_ops.models import Customer
from customer_ops.personal_data import KEPT, declarations, history_declarations
from customer_ops.roles import Role
from tests.compliance.planting import Identity, plant, scan, text_columns
from tests.factories import identity_verified

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("customer_ops", "tickets", "fraud", "analytics", "compliance")


def _reaches_customer(model: type[models.Model], seen: frozenset = frozenset()) -> bool:
    """Whether ``model``'s rows belong to a customer, through its foreign keys."""
    if model is Customer:
        return True
    for field in model._meta.concrete_fields:
        target = field.related_model if field.is_relation else None
        if target is not None and target not in seen and target._meta.app_label in PROJECT_APPS:
            if _reaches_customer(target, seen | {model}):
                return True
    return False


def customer_tables() -> dict[str, tuple[type[models.Model], object]]:
    """table -> (model, its declaration or None) for every table of the project holding customer rows."""
    declared = declarations()
    history = {model: data for model, (_, data) in history_declarations().items()}
    found = {}
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            if model._meta.proxy or not _reaches_customer(model):
                continue
            found[model._meta.db_table] = (model, declared.get(model) or history.get(model))
    return found


def undeclared(catalog: dict) -> list[str]:
    """Text columns of customer tables with no treatment, and treatments of no column."""
    problems = []
    for table, (model, data) in customer_tables().items():
        columns = catalog.get(table, {})
        if not columns:
            continue
        if data is None:
            problems.append(f"{table}: no personal-data declaration")
            continue
        names = {f.column: f.name for f in model._meta.concrete_fields}
        problems += [f"{table}.{c}" for c in columns if c not in names or data.treatment(names[c]) is None]
        declared = {*data.fields, *data.text}
        problems += [f"{table}.{n}: declared, no such column" for n in declared if n not in names.values()]
    return problems


def test_every_text_json_and_array_column_of_a_customer_table_is_declared():
    catalog = text_columns()
    tables = customer_tables()
    # The catalog really holds what this test is about: the spec's, platform, history and own tables.
    assert {"customer_blocks", "customers", "customer_tickets_history", "ticket_internal_notes"} <= set(tables)
    assert "customer_activity_log_default" not in catalog  # partitions are covered by their parent
    assert undeclared(catalog) == []


def test_a_new_or_forgotten_column_fails_the_declaration_check(monkeypatch):
    catalog = text_columns()
    catalog["customer_blocks"]["agent_scribble"] = {"type": "text", "max_length": None, "udt": "text"}
    assert undeclared(catalog) == ["customer_blocks.agent_scribble"]

    from fraud.models import Block

    text = {k: v for k, v in Block.personal_data.text.items() if k != "block_notes"}
    monkeypatch.setattr(Block, "personal_data", dataclasses.replace(Block.personal_data, text=text))
    assert sorted(undeclared(text_columns())) == ["customer_blocks.block_notes", "fraud_historicalblock.block_notes"]


def test_kept_columns_hold_only_codes_and_ids():
    """``Keep`` is for columns that cannot hold free text: an enum, a generated id, numbers;
    and the erasure's own record (its identifiers are emptied at completion, tested below)."""
    loose = []
    for table, (model, data) in customer_tables().items():
        if data is None or model is ErasureRun:
            continue
        for name in data.text:
            if data.treatment(name) != KEPT:
                continue
            field = model._meta.get_field(name)
            array_of_codes = isinstance(field, ArrayField) and (field.base_field.choices or not scrub.is_text(field))
            if not (field.choices or not field.editable or array_of_codes or name == "history_type"):
                loose.append(f"{table}.{name}")
    assert loose == []


def _snapshot(customer_id: int) -> dict:
    """Every text column of every row of the customer, per table (through the declarations)."""
    catalog = text_columns()
    snapshot = {}
    for table, (model, data) in customer_tables().items():
        names = [f.name for f in model._meta.concrete_fields if f.column in catalog.get(table, {})]
        if data is None or not names:
            continue
        rows = model._default_manager.filter(**{data.customer_path: customer_id}).order_by("pk")
        snapshot[table] = list(rows.values_list("pk", *names))
    return snapshot


def _financial(customer_id: int) -> dict:
    from customer_ops.models import Order
    from tickets.models import Dispute, RefundRequest

    return {
        "orders": list(Order.objects.filter(customer_id=customer_id).order_by("pk").values_list("pk", "order_amount")),
        "refunds": list(
            RefundRequest.objects.filter(customer_id=customer_id).values_list("pk", "requested_amount", "refund_status")
        ),
        "disputes": list(Dispute.objects.filter(customer_id=customer_id).values_list("pk", "disputed_amount")),
    }


def test_erasure_leaves_no_identifier_in_any_text_column_and_spares_everyone_else(make_staff):
    recorder, approver = make_staff(Role.COMPLIANCE), make_staff(Role.COMPLIANCE)
    target, control = Identity("Tgt"), Identity("Ctl")
    planted = plant(target, staff=recorder)
    other = plant(control, staff=recorder)
    customer = planted["customer"]

    # Every free-text column of every customer table holds some of the target's identifiers
    # (all but the erasure's own record, which the erasure itself creates).
    catalog = text_columns()
    before = scan(target.searched(), [target.phone_regex()])
    holding = {hit.split(":")[0] for hit in before}
    expected = {
        f"{table}.{f.column}"
        for table, (model, data) in customer_tables().items()
        if data is not None and model is not ErasureRun
        for f in model._meta.concrete_fields
        if f.column in catalog.get(table, {}) and data.treatment(f.name) != KEPT
    }
    assert expected and expected <= holding, sorted(expected - holding)
    control_hits, control_rows = scan(control.searched()), _snapshot(other["customer"].pk)
    financial = _financial(customer.pk)

    request = deletion_request_create(
        customer=customer, scopes=["ALL"], reason=f"asked by {target.email}", actor=recorder
    )
    identity_verified(request, approver)
    deletion_request_approve(request=request, actor=approver)
    out = io.StringIO()
    call_command("process_deletion_requests", stdout=out)
    assert "1 completed" in out.getvalue()

    request = DataDeletionRequest.objects.get(pk=request.pk)
    assert request.request_status == RequestStatus.COMPLETED
    left = scan(target.searched(), [target.phone_regex()])
    assert left == [], "\n".join(left)
    # The control customer's planted values are all where they were, unchanged.
    assert scan(control.searched()) == control_hits
    assert _snapshot(other["customer"].pk) == control_rows
    assert _financial(customer.pk) == financial
    # Nothing of the identifiers stays in clear: the certificate keeps counts and a digest.
    run = ErasureRun.objects.get(request=request)
    assert run.state == ErasureState.DONE and run.identifiers is None
    summary = run.outcome["identifiers"]
    assert summary["counts"]["name"] == 3 and summary["counts"]["email"] == 2
    assert len(summary["hmac_sha256"]) == 64
    # The plan listed the scrubbed and redacted columns per table with their rows.
    plan = {t["table"]: t for t in run.plan["tables"]}
    assert plan["customer_blocks"]["action"] == "scrub" and "block_notes" in plan["customer_blocks"]["scrubbed"]
    assert plan["customer_blocks"]["rows"] == 1
    assert plan["customer_disputes"]["redacted"] == ["dispute_description", "evidence_urls", "evidence_description"]
    assert "legal_notes" in plan["customer_disputes"]["scrubbed"]
