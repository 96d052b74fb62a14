"""GDPR erasure, its whole workflow in one module: the deletion request (recorded, approved
under four eyes or rejected), the plan, the chunked and resumable run, the certificate.

The request's steps (``deletion_request_*``) are services: each checks its own permission
(:func:`customer_ops.permissions.requires`) and refuses with a :class:`ComplianceError` of
its kind. ``compliance.services`` offers them with the app's other services.

Driven entirely by the personal-data declarations (:mod:`customer_ops.personal_data`):
every declared model is a *step*, and so is the django-simple-history table of each
(historical rows are copies of the same personal columns, declared by derivation),
discovered through simple_history's registry rather than by name. Per step and requested
scope the erasure redacts the declared columns, scrubs the customer's identifiers out of
the other free-text columns (:mod:`compliance.scrub`), deletes the rows
(``delete_rows_with``) or anonymises the customer record; rows held by a legal hold
(:mod:`compliance.holds`) are kept until the hold closes.

The identifiers are read from the customer's own rows (the declared ``identifiers``
columns) when the plan is made, before anything is anonymised, and kept in the run
(``ErasureRun.identifiers``) only while it lasts: a resumed run still has them; at
completion they are replaced by counts and a keyed digest in the certificate.

This module is the ONLY caller of :func:`customer_ops.write_rules.erasure_bypass`: the
immutable logs and never-update columns are redacted inside its transactions and nowhere
else. Each chunk asks the database for a grant (:mod:`compliance.erasure_sql`), which
checks that the request is being erased and that the rows and columns are in its plan.

Safety of a long run:

* bounded chunks (``ERASURE_CHUNK_SIZE`` rows per transaction), so a customer with
  millions of log rows never holds one huge transaction or lock;
* progress per step (a keyset cursor, the rows changed, the rows held) is committed in the
  same transaction as its chunk, under a row lock of the run: a killed run resumes where
  it stopped, two runs never do a chunk twice, and the counts are exact;
* the plan is computed (and stored at approval) with the same row selection the run uses,
  so its counts equal what the run does when nothing else writes in between.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from compliance import conf, dsr, scrub
from compliance.choices import AuditAction, ErasureState, RefusalReason, RequestStatus
from compliance.errors import (  # noqa: F401  (ErasureError re-exported)
    ComplianceConflict,
    ComplianceInvalid,
    ComplianceNotAllowed,
    ErasureConflict,
    ErasureError,
    ErasureInvalid,
)
from compliance.holds import held_pairs, held_rows, hold_reason_prefix
from compliance.models import AuditLog, DataDeletionRequest, ErasureRun
from compliance.recipients import certificate_section, fully_closed
from customer_ops.audit import audit
from customer_ops.choices import CustomerStatus, EventType
from customer_ops.context import audit_actor
from customer_ops.deadlines import Deadline
from customer_ops.events import emit
from customer_ops.models import Customer
from customer_ops.permissions import requires
from customer_ops.personal_data import (
    PersonalData,
    Scope,
    declarations,
    expand_scopes,
    historical_models,  # noqa: F401  (re-exported: the erasure tests find history tables here)
    history_declarations,
)
from customer_ops.registry import staff_text_scrubbers
from customer_ops.scopes import PRIVACY_WRITE
from customer_ops.statements import STAND_IN, bound, compiled
from customer_ops.write_rules import erasure_bypass

# Every audit entry about an erasure starts with this, so the erasure keeps its own trail.
AUDIT_PREFIX = "GDPR erasure"

REDACT, SCRUB, DELETE, ANONYMISE, KEEP = "redact", "scrub", "delete", "anonymise", "keep"
DONE_WORDS = {REDACT: "redacted", SCRUB: "scrubbed", DELETE: "deleted", ANONYMISE: "anonymised", KEEP: "kept"}


@dataclass(frozen=True)
class Step:
    """One table the erasure visits."""

    model: type[models.Model]
    data: PersonalData
    base: type[models.Model]  # the declaring model (itself, or the model a history table copies)

    @property
    def key(self) -> str:
        return self.model._meta.label_lower

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def historical(self) -> bool:
        return self.model is not self.base

    @property
    def id_field(self) -> str:
        """The column holding the declaring model's primary key (for holds)."""
        return self.base._meta.pk.attname if self.historical else "pk"

    def customer_filter(self, customer_id: int) -> models.Q:
        path = self.data.customer_path
        if path == "pk":
            path = self.id_field
        return models.Q(**{path: customer_id})

    def redacted(self, scopes: list[str]) -> list[str]:
        return list(self.data.fields_in(scopes))

    def scrubbed(self, scopes: list[str], scrubbing: bool) -> list[str]:
        """The text columns scrubbed (none when there is no identifier to scrub)."""
        if not scrubbing:
            return []
        return [name for name in self.data.scrubbed(scopes) if scrub.is_text(self.model._meta.get_field(name))]

    def action(self, scopes: list[str], scrubbing: bool = False) -> str:
        if self.data.deletes_rows(scopes):
            return DELETE
        if self.data.fields_in(scopes):
            return ANONYMISE if self.base is Customer else REDACT
        return SCRUB if self.scrubbed(scopes, scrubbing) else KEEP

    def rows(self, customer_id: int) -> models.QuerySet:
        qs = self.model._default_manager.filter(self.customer_filter(customer_id))
        if self.base is AuditLog:
            # The erasure's own trail is never redacted: it is what proves the erasure.
            qs = qs.exclude(action_reason__startswith=AUDIT_PREFIX)
        return qs


@cache
def steps() -> list[Step]:
    """Every declared model, each followed by its history table; the customer record last."""
    history = {base: (model, data) for model, (base, data) in history_declarations().items()}
    ordered = sorted(declarations().items(), key=lambda item: (item[0] is Customer, item[0]._meta.label_lower))
    result = []
    for model, data in ordered:
        result.append(Step(model=model, data=data, base=model))
        if model in history:
            history_model, history_data = history[model]
            result.append(Step(model=history_model, data=history_data, base=model))
    return result


def gather_identifiers(customer_id: int, scopes: list[str]) -> dict[str, list[str]]:
    """kind -> what to scrub, from the customer's own rows of every declared identifier
    column in ``scopes`` (held rows included: they still name the customer). One statement
    for every column (:func:`_identifiers_statement`)."""
    sql, params, kinds = _identifiers_statement(tuple(sorted(str(scope) for scope in scopes)))
    raw: dict[str, set] = {}
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, bound(params, customer_id))
            for number, value in cursor.fetchall():
                value = json.loads(value) if isinstance(value, str) else value
                if value:
                    raw.setdefault(kinds[number], set()).add(value)
    found = {kind: sorted(scrub.normalise(kind, values)) for kind, values in sorted(raw.items())}
    return {kind: values for kind, values in found.items() if values}


@lru_cache(maxsize=64)
def _identifiers_statement(scopes: tuple[str, ...]) -> tuple[str, tuple, tuple[str, ...]]:
    """The distinct values of every declared identifier column in ``scopes``, tagged with the
    column's number in the returned kinds: (sql, params, kinds). Compiled once per process
    and scopes: a column's query each took about a millisecond of CPU to build, and a full
    erasure names 18 of them. Each value goes through ``to_jsonb`` so that the columns' types
    (text, inet, integer) unite and read back as the ORM reads them (an address without
    its netmask)."""
    kinds: list[str] = []
    parts, params = [], []
    for step in steps():
        for column, kind in step.data.identifiers_in(list(scopes)).items():
            rows = step.rows(STAND_IN)
            condition = step.data.only_where.get(column)
            if condition is not None:
                rows = rows.filter(condition)
            values = rows.order_by().exclude(**{column: ""}).values_list(column, flat=True).distinct()
            sql, part_params = compiled(values)
            parts.append(f"(SELECT {len(kinds)}, to_jsonb(p.v) FROM ({sql}) AS p(v))")
            params += part_params
            kinds.append(str(kind))
    return " UNION ALL ".join(parts), tuple(params), tuple(kinds)


# --- the plan ----------------------------------------------------------------------------


def _held_for(step: Step, customer_id: int) -> dict[int, str]:
    """Holds of the declaring model, keyed by its primary key."""
    return held_rows(step.base, customer_id)


@cache
def _plan_statement() -> tuple[str, tuple]:
    """One statement counting, per step, the customer's rows (``Step.rows``) by the reasons
    their holds give (``held_rows``'s wording: distinct reasons in code-point order, joined
    by "; "; NULL for rows not held): rows (step number, reasons, rows). Compiled once per
    process (:mod:`customer_ops.statements`): building the 44 steps' querysets cost more
    than PostgreSQL takes to count their rows."""
    held_views, branches, params = [], [], []
    held_view_of: dict[type[models.Model], str] = {}
    for base in dict.fromkeys(step.base for step in steps()):
        parts = []
        for rule, pairs in held_pairs(base, STAND_IN):
            sql, pair_params = compiled(pairs)
            parts.append(f'(SELECT h.pk, (%s || h.label::text) COLLATE "C" AS reason FROM ({sql}) AS h(pk, label))')
            params += [hold_reason_prefix(rule), *pair_params]
        if parts:
            view = held_view_of[base] = f"held_{len(held_view_of)}"
            held_views.append(
                f"{view} AS (SELECT pk, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reasons"
                f" FROM ({' UNION ALL '.join(parts)}) AS r GROUP BY pk)"
            )
    for number, step in enumerate(steps()):
        sql, row_params = compiled(step.rows(STAND_IN).order_by().values_list(step.id_field, flat=True))
        view = held_view_of.get(step.base)
        if view:
            branches.append(
                f"(SELECT {number}, {view}.reasons, count(*) FROM ({sql}) AS ids(pk)"
                f" LEFT JOIN {view} ON {view}.pk = ids.pk GROUP BY {view}.reasons)"
            )
        else:
            branches.append(f"(SELECT {number}, NULL::text, count(*) FROM ({sql}) AS ids(pk))")
        params += row_params
    with_clause = f"WITH {', '.join(held_views)} " if held_views else ""
    return with_clause + " UNION ALL ".join(branches), tuple(params)


def _plan_counts(customer_id: int) -> dict[int, Counter]:
    """Step number -> {reasons or None: rows}, from :func:`_plan_statement`."""
    sql, params = _plan_statement()
    counts: dict[int, Counter] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, bound(params, customer_id))
        for number, reasons, rows in cursor.fetchall():
            if rows:
                counts.setdefault(number, Counter())[reasons] += rows
    return counts


@lru_cache(maxsize=64)
def _shapes(scopes: tuple[str, ...], scrubbing: bool) -> tuple[dict, ...]:
    """Per step, what erasing ``scopes`` does whoever the customer is: the action and the
    columns redacted and scrubbed (the declarations only). Worked out once per process and
    scopes: the deletion request page showed it on every view."""
    shapes = []
    for step in steps():
        action = step.action(list(scopes), scrubbing)
        columns: dict[str, list[str]] = {}
        for name, scope in step.data.fields_in(scopes).items():
            columns.setdefault(str(scope), []).append(name)
        shapes.append(
            {
                "step": step.key,
                "table": step.table,
                "history_of": step.base._meta.db_table if step.historical else None,
                "action": action,
                "columns": columns,
                "redacted": step.redacted(list(scopes)) if action != DELETE else [],
                "scrubbed": step.scrubbed(list(scopes), scrubbing) if action != DELETE else [],
            }
        )
    return tuple(shapes)


def build_plan(
    *, customer_id: int, scopes: list[str], request_id: str = "", identifiers: dict[str, list[str]] | None = None
) -> dict:
    """Per table: the action, the columns redacted (per scope) and scrubbed, the rows it
    will change, the rows kept and why; and how many identifiers of each kind it scrubs."""
    chosen = sorted(expand_scopes(scopes))
    if identifiers is None:
        identifiers = gather_identifiers(customer_id, scopes)
    scrubbing = bool(identifiers)
    tables = []
    counts = _plan_counts(customer_id)
    for number, (step, shape) in enumerate(zip(steps(), _shapes(tuple(sorted(scopes)), scrubbing), strict=True)):
        action = shape["action"]
        found = counts.get(number, Counter())
        total = sum(found.values())
        held_reasons = {reason: n for reason, n in found.items() if reason is not None}
        changed = 0 if action == KEEP else total - sum(held_reasons.values())
        kept = [{"rows": n, "reason": reason} for reason, n in sorted(held_reasons.items())]
        if action == KEEP and total:
            kept.append({"rows": total, "reason": step.data.keep_rows or "No personal columns in these scopes."})
        elif action in {REDACT, ANONYMISE, SCRUB} and changed and step.data.keep_rows:
            done = "redacted" if action != SCRUB else "scrubbed"
            kept.append({"rows": changed, "reason": f"Row kept, columns {done}: {step.data.keep_rows}"})
        tables.append(
            {
                **shape,
                "columns": {scope: list(names) for scope, names in shape["columns"].items()},
                "redacted": list(shape["redacted"]),
                "scrubbed": list(shape["scrubbed"]),
                "rows": changed,
                "kept": kept,
            }
        )
    return {
        "request_id": request_id,
        "customer_id": customer_id,
        "scopes": [str(s) for s in chosen],
        "identifiers": {kind: len(values) for kind, values in identifiers.items()},
        "tables": tables,
    }


def plan_for(request: DataDeletionRequest) -> dict:
    return build_plan(customer_id=request.customer_id, scopes=request.deletion_scope, request_id=request.request_id)


# --- what one chunk does ------------------------------------------------------------------


def _redacted_value(model: type[models.Model], name: str):
    field = model._meta.get_field(name)
    if isinstance(field, models.EmailField):
        # Unique on the customer record: a per-row address that can never be delivered.
        pk = model._meta.pk.attname if model is Customer else "id"
        return Concat(
            models.Value("erased-"),
            Cast(pk, models.TextField()),
            models.Value("@erased.invalid"),
            output_field=models.TextField(),
        )
    if isinstance(field, ArrayField):
        return []
    if isinstance(field, models.JSONField):
        return None if field.null else {}
    if isinstance(field, models.TextField | models.CharField):
        return conf.ERASURE_REDACTED_TEXT
    if field.null:
        return None
    raise ImproperlyConfigured(f"{model._meta.label}.{name} is declared personal but cannot be redacted.")


def redaction(step: Step, scopes: list[str], patterns: list[str] = ()) -> dict:
    """The UPDATE's assignments: redact the step's columns in ``scopes``, scrub ``patterns``
    (:func:`compliance.scrub.patterns`) out of its other free-text columns."""
    values = {}
    for name in step.data.fields_in(scopes):
        value = _redacted_value(step.model, name)
        condition = step.data.only_where.get(name)
        if condition is not None:
            field = step.model._meta.get_field(name)
            if not isinstance(value, models.Expression):
                value = models.Value(value, output_field=field)
            # Rows the condition leaves out (a staff member's entry) are scrubbed, not redacted.
            default = scrub.expression(field, patterns) if patterns and scrub.is_text(field) else models.F(name)
            value = models.Case(models.When(condition, then=value), default=default, output_field=field)
        values[name] = value
    for name in step.scrubbed(scopes, bool(patterns)):
        values[name] = scrub.expression(step.model._meta.get_field(name), patterns)
    if step.action(scopes) == ANONYMISE and not step.historical:
        values["status"] = CustomerStatus.ANONYMISED
    return values


def _apply(step: Step, scopes: list[str], pks: list[int], patterns: list[str], *, request_id: str, reason: str) -> int:
    """Erase rows ``pks`` of the step, through the database's grant for deletion request ``request_id``."""
    if not pks:
        return 0
    qs = step.model._default_manager.filter(pk__in=pks)
    with erasure_bypass(step.model, request_id=request_id, pks=pks, reason=reason):
        if step.action(scopes) == DELETE:
            count = qs.count()
            qs.delete()
        else:
            count = qs.update(**redaction(step, scopes, patterns))
    if not step.historical:
        # The admin's own change log names objects by str(): that can be a name or a subject.
        content_type = ContentType.objects.get_for_model(step.model)
        LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks]).update(
            object_repr=conf.ERASURE_REDACTED_TEXT
        )
    return count


def _locked_run(run_id: int) -> ErasureRun:
    return ErasureRun.objects.select_for_update().get(pk=run_id)


def _progress(run: ErasureRun, step: Step) -> dict:
    return run.progress.setdefault(step.key, {"cursor": None, "rows": 0, "held": [], "done": False})


def _record_step(run: ErasureRun, step: Step, scopes: list[str], patterns: list[str], rows: int) -> None:
    action = step.action(scopes, bool(patterns))
    if rows:
        columns = [
            f"{word}: {', '.join(names)}"
            for word, names in (
                ("redacted", step.redacted(scopes)),
                ("scrubbed", step.scrubbed(scopes, bool(patterns))),
            )
            if names and action != DELETE
        ]
        audit(
            customer_id=run.customer_id,
            action_type=AuditAction.DELETE if action == DELETE else AuditAction.UPDATE,
            action_field=step.table,
            reason=f"{AUDIT_PREFIX} {run.request.request_id}: {rows} row(s) {DONE_WORDS[action]}"
            + (f" ({'; '.join(columns)})" if columns else ""),
        )


def _run_step(
    run_id: int,
    step: Step,
    scopes: list[str],
    patterns: list[str],
    chunk_size: int,
    on_chunk: Callable[[str], None] | None,
) -> None:
    run = ErasureRun.objects.select_related("request").get(pk=run_id)
    progress = run.progress.get(step.key, {})
    if progress.get("done"):
        return
    action = step.action(scopes, bool(patterns))
    customer_id = run.customer_id
    request_id = run.request.request_id
    reason = f"{AUDIT_PREFIX} {request_id}"
    held = _held_for(step, customer_id)
    rows = step.rows(customer_id)
    if progress.get("cursor") is not None:
        rows = rows.filter(pk__gt=progress["cursor"])
    # One index scan per step for the keys; each chunk then updates by primary key.
    todo = [] if action == KEEP else list(rows.order_by("pk").values_list("pk", step.id_field))
    for start in range(0, len(todo), chunk_size):
        chunk = todo[start : start + chunk_size]
        with transaction.atomic():
            run = _locked_run(run_id)
            progress = _progress(run, step)
            chunk = [(pk, i) for pk, i in chunk if progress["cursor"] is None or pk > progress["cursor"]]
            if not chunk:  # another run did it meanwhile
                continue
            pks = [pk for pk, i in chunk if i not in held]
            changed = _apply(step, scopes, pks, patterns, request_id=request_id, reason=reason)
            progress["held"] += [pk for pk, i in chunk if i in held]
            progress["rows"] += changed
            progress["cursor"] = chunk[-1][0]
            run.chunks += 1
            run.save(update_fields=["progress", "chunks", "updated_at"])
        if on_chunk is not None:
            on_chunk(step.key)
    with transaction.atomic():
        run = _locked_run(run_id)
        progress = _progress(run, step)
        if not progress["done"]:
            progress["done"] = True
            run.save(update_fields=["progress", "updated_at"])
            _record_step(run, step, scopes, patterns, progress["rows"])


def _release_holds(run_id: int, step: Step, scopes: list[str], patterns: list[str]) -> None:
    """Erase the rows of a finished step whose legal hold has closed since."""
    run = ErasureRun.objects.select_related("request").get(pk=run_id)
    if not run.progress.get(step.key, {}).get("held"):
        return
    still_held = _held_for(step, run.customer_id)
    request_id = run.request.request_id
    with transaction.atomic():
        run = _locked_run(run_id)
        progress = _progress(run, step)
        pairs = step.model._default_manager.filter(pk__in=progress["held"]).values_list("pk", step.id_field)
        released = [pk for pk, i in pairs if i not in still_held]
        if not released:
            return
        reason = f"{AUDIT_PREFIX} {request_id}: hold released"
        changed = _apply(step, scopes, released, patterns, request_id=request_id, reason=reason)
        progress["held"] = [pk for pk in progress["held"] if pk not in set(released)]
        progress["rows"] += changed
        run.save(update_fields=["progress", "updated_at"])
        _record_step(run, step, scopes, patterns, changed)


# --- the run -----------------------------------------------------------------------------


def start_run(request: DataDeletionRequest) -> ErasureRun:
    """The request's run, created with the plan the first time (idempotent)."""
    with transaction.atomic():
        request = DataDeletionRequest.objects.select_for_update().get(pk=request.pk)
        run = ErasureRun.objects.filter(request=request).first()
        if run is None:
            identifiers = gather_identifiers(request.customer_id, request.deletion_scope)
            run = ErasureRun.objects.create(
                request=request,
                customer_id=request.customer_id,
                plan=build_plan(
                    customer_id=request.customer_id,
                    scopes=request.deletion_scope,
                    request_id=request.request_id,
                    identifiers=identifiers,
                ),
                identifiers=identifiers,
            )
        return run


def _identifiers_for_run(run_id: int, scopes: list[str]) -> dict[str, list[str]]:
    """The run's identifiers; before its first step, also those of rows written since approval."""
    with transaction.atomic():
        run = _locked_run(run_id)
        identifiers = run.identifiers or {}
        if not run.progress and run.state != ErasureState.DONE:
            fresh = gather_identifiers(run.customer_id, scopes)
            merged = {k: sorted(set(identifiers.get(k, [])) | set(fresh.get(k, []))) for k in {*identifiers, *fresh}}
            if merged != identifiers:
                run.identifiers = identifiers = merged
                run.save(update_fields=["identifiers", "updated_at"])
        return identifiers


def run_erasure(
    request: DataDeletionRequest,
    *,
    chunk_size: int | None = None,
    on_chunk: Callable[[str], None] | None = None,
) -> ErasureRun:
    """Carry out a PROCESSING request; safe to call again after a crash or while a hold lasts."""
    request.refresh_from_db()
    if request.request_status != RequestStatus.PROCESSING:
        raise ErasureConflict(f"{request.request_id} is {request.request_status}: only PROCESSING requests are erased.")
    scopes = list(request.deletion_scope)
    if not scopes:
        raise ErasureInvalid(f"{request.request_id} names no scope.")
    run = start_run(request)
    patterns = scrub.patterns(_identifiers_for_run(run.pk, scopes))
    chunk_size = chunk_size or conf.ERASURE_CHUNK_SIZE
    for step in steps():
        _run_step(run.pk, step, scopes, patterns, chunk_size, on_chunk)
        _release_holds(run.pk, step, scopes, patterns)
    if patterns:
        for scrubber in staff_text_scrubbers.ordered():  # saved searches naming the customer
            scrubber.scrub(patterns, conf.ERASURE_REDACTED_TEXT)
    return _finish(run.pk)


def _finish(run_id: int) -> ErasureRun:
    with transaction.atomic():
        run = _locked_run(run_id)
        request = DataDeletionRequest.objects.select_for_update().get(pk=run.request_id)
        if run.state == ErasureState.DONE:
            return run
        held = {key: p["held"] for key, p in run.progress.items() if p.get("held")}
        run.outcome = outcome_of(run)
        if held:
            if run.state != ErasureState.HELD:
                audit(
                    customer_id=run.customer_id,
                    action_type=AuditAction.STATUS_CHANGE,
                    action_field="erasure",
                    reason=f"{AUDIT_PREFIX} {request.request_id}: waiting on legal hold "
                    f"({sum(len(v) for v in held.values())} row(s) held)",
                )
            run.state = ErasureState.HELD
            run.save(update_fields=["state", "outcome", "updated_at"])
            return run
        now = timezone.now()
        run.outcome["completed_at"] = now.isoformat()
        run.state = ErasureState.DONE
        run.finished_at = now
        run.digest = digest(run.plan, run.outcome)
        run.identifiers = None  # nothing of them stays in clear; the outcome keeps counts and a digest
        run.save(update_fields=["state", "outcome", "finished_at", "digest", "identifiers", "updated_at"])
        request.request_status = RequestStatus.COMPLETED
        request.completed_at = now
        request.save(update_fields=["request_status", "completed_at"])
        audit(
            customer_id=run.customer_id,
            action_type=AuditAction.STATUS_CHANGE,
            action_field="request_status",
            old_value=RequestStatus.PROCESSING,
            new_value=RequestStatus.COMPLETED,
            reason=f"{AUDIT_PREFIX} {request.request_id}: completed, certificate sha256 {run.digest}",
        )
        # Every subscribed system must erase the customer too (GDPR art. 17(2), 19); the
        # fan-out records which ones (compliance.recipients).
        emit(
            EventType.DATA_SUBJECT_REQUEST_COMPLETED,
            customer_id=run.customer_id,
            request_id=request.request_id,
            scope=list(request.deletion_scope),
            completed_at=now,
        )
        return run


def outcome_of(run: ErasureRun) -> dict:
    by_key = {step.key: step for step in steps()}
    tables = []
    for key, progress in sorted(run.progress.items()):
        step = by_key.get(key)
        tables.append(
            {
                "step": key,
                "table": step.table if step else key,
                "rows": progress["rows"],
                "held": len(progress["held"]),
            }
        )
    return {"tables": tables, "chunks": run.chunks, "identifiers": scrub.summary(run.identifiers or {})}


def canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(plan: dict, outcome: dict) -> str:
    """SHA-256 of the canonical JSON of the plan and the outcome (the certificate's seal)."""
    return hashlib.sha256(canonical({"plan": plan, "outcome": outcome})).hexdigest()


def certificate(run: ErasureRun) -> dict:
    """The certificate of erasure: what was planned, what was done, and the digest of both."""
    if run.state != ErasureState.DONE:
        raise ErasureConflict("The erasure has not completed: there is no certificate yet.")
    return {
        "request_id": run.request.request_id,
        "customer_id": run.customer_id,
        "scopes": run.plan.get("scopes", []),
        "approved_at": _iso(run.request.processed_at),
        "completed_at": _iso(run.request.completed_at),
        "plan": run.plan,
        "outcome": run.outcome,
        "digest_algorithm": "sha256 over canonical JSON of {plan, outcome} (sorted keys, no spaces, UTF-8)",
        "digest": run.digest,
        # Not sealed by the digest: the systems confirm after completion (compliance.recipients).
        "recipients": certificate_section(run.request),
        "fully_closed": fully_closed(run.request),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- the deletion request: record, approve (four eyes), reject, run ---------------------

RECORD_REQUEST = "compliance.add_datadeletionrequest"
PROCESS = "compliance.process_datadeletionrequest"


def _check_scopes(scopes: list[str]) -> list[str]:
    scopes = [s for s in dict.fromkeys(scopes or []) if s]
    if not scopes:
        raise ComplianceInvalid("Choose at least one deletion scope.")
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ComplianceInvalid(f"Unknown deletion scope(s): {', '.join(unknown)}.")
    return [Scope.ALL.value] if Scope.ALL in scopes else scopes


# --- deletion requests -------------------------------------------------------------------


def erasure_deadline(request: DataDeletionRequest) -> Deadline:
    """The effective deadline (:func:`compliance.dsr.due_at`: the statutory month, or the extended date)."""
    return Deadline(due_at=dsr.due_at(request), done_at=request.completed_at)


@requires(RECORD_REQUEST, scope=PRIVACY_WRITE, what="record deletion requests")
def deletion_request_create(
    *,
    customer: Customer,
    scopes: list[str],
    reason: str = "",
    requested_at: dt.datetime | None = None,
    actor,
) -> DataDeletionRequest:
    """Record a request (PENDING). One open request per customer at a time.

    A compliance officer records it in the admin, or the privacy portal (a calling system
    holding ``privacy:write``) files it through the service API: then no staff member
    recorded it and any compliance officer may approve it (four eyes hold either way)."""
    scopes = _check_scopes(scopes)
    now = timezone.now()
    if requested_at is not None and requested_at > now:
        raise ComplianceInvalid("The request date cannot be in the future.")
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        open_request = DataDeletionRequest.objects.filter(
            customer=customer, request_status__in=[RequestStatus.PENDING, RequestStatus.PROCESSING]
        ).first()
        if open_request is not None:
            raise ComplianceConflict(f"{open_request.request_id} is already open for this customer.")
        request = DataDeletionRequest.objects.create(
            customer=customer,
            request_reason=reason.strip(),
            deletion_scope=scopes,
            requested_at=requested_at or now,
        )
        request.refresh_from_db(fields=["request_id"])
        audit(
            customer_id=customer.pk,
            action_type=AuditAction.CREATE,
            action_field="deletion_request",
            new_value=",".join(scopes),
            reason=f"{AUDIT_PREFIX} {request.request_id}: recorded",
            actor=audit_actor(actor),
        )
    return request


# A deletion request's version: its row's ``xmin``, the transaction that last wrote it. The
# spec table has no ``updated_at`` and no history, and no column of it changes on every write
# (the scope, say, may be rewritten by another service of the platform, and the approver
# must not approve a plan they did not see); ``xmin`` does, whoever writes, and a lock
# (``FOR UPDATE``) leaves it as it is.
_VERSION = RawSQL("xmin::text::bigint", ())


def deletion_request_version(request: DataDeletionRequest) -> int:
    """The version a page shows and sends back as ``expected_version`` to approve or reject."""
    return _version(request.pk).get()


def deletion_request_version_of(pk: int) -> int | None:
    """:func:`deletion_request_version` by primary key; None when there is no such request."""
    return _version(pk).first()


def _version(pk: int) -> models.QuerySet:
    return DataDeletionRequest.objects.filter(pk=pk).annotate(v=_VERSION).values_list("v", flat=True)


def _locked_pending(request: DataDeletionRequest, verb: str, expected_version: int | None) -> DataDeletionRequest:
    """The request, locked; refused unless it is PENDING and (given a version) as the caller read it."""
    locked = DataDeletionRequest.objects.select_for_update().annotate(version=_VERSION).get(pk=request.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ComplianceConflict(
            f"{locked.request_id} was changed by someone else since you opened it. "
            "Nothing was saved: check its current state and try again."
        )
    if locked.request_status != RequestStatus.PENDING:
        raise ComplianceConflict(
            f"{locked.request_id} is {locked.get_request_status_display()}: only a pending request can be {verb}."
        )
    return locked


def deletion_request_recorder(request: DataDeletionRequest) -> tuple[int | None, str]:
    """Who recorded the request (staff id, name), from its audit entry: ``(None, "api:<name>")``
    when a calling system filed it through the service API, ``(None, "")`` when another
    service of the platform inserted the row directly."""
    entry = (
        AuditLog.objects.filter(
            customer_id=request.customer_id,
            action_type=AuditAction.CREATE,
            action_field="deletion_request",
            action_reason=f"{AUDIT_PREFIX} {request.request_id}: recorded",
        )
        .values_list("actor_id", "actor_name")
        .first()
    )
    return entry or (None, "")


@requires(PROCESS, what="approve or reject deletion requests")
def deletion_request_approve(
    *, request: DataDeletionRequest, actor, expected_version: int | None = None
) -> DataDeletionRequest:
    """PENDING -> PROCESSING; stores the plan the approver saw. The erasure itself is queued:
    the ``process_deletion_requests`` job carries it out (never inside a web request).

    Four eyes: an erasure is irreversible, so whoever recorded the request cannot approve it.
    ``expected_version`` (:func:`deletion_request_version` as the approver's page read it):
    a request changed since is refused as a conflict.
    """
    with transaction.atomic():
        request = _locked_pending(request, "approved", expected_version)
        dsr.require_verified(request)
        recorder_id, recorder_name = deletion_request_recorder(request)
        if recorder_id is not None and recorder_id == actor.pk:
            raise ComplianceNotAllowed(
                f"You recorded {request.request_id}: another compliance officer must approve it (four eyes)."
            )
        request.request_status = RequestStatus.PROCESSING
        request.processed_at = timezone.now()
        request.processed_by = actor
        request.save(update_fields=["request_status", "processed_at", "processed_by"])
        audit(
            customer_id=request.customer_id,
            action_type=AuditAction.STATUS_CHANGE,
            action_field="request_status",
            old_value=RequestStatus.PENDING,
            new_value=RequestStatus.PROCESSING,
            reason=f"{AUDIT_PREFIX} {request.request_id}: approved"
            + (f" (recorded by {recorder_name or 'staff'} #{recorder_id})" if recorder_id is not None else "")
            + (f" (recorded by {recorder_name})" if recorder_id is None and recorder_name else ""),
            actor=audit_actor(actor),
        )
        start_run(request)  # freezes the plan as approved
    return request


@requires(PROCESS, what="approve or reject deletion requests")
def deletion_request_reject(
    *,
    request: DataDeletionRequest,
    reason: str,
    actor,
    expected_version: int | None = None,
    refusal_reason: str = RefusalReason.OTHER,
) -> DataDeletionRequest:
    """PENDING -> REJECTED, with the reason code from the list (:class:`RefusalReason`) and
    the free text (required); refused as a conflict if the request changed since
    ``expected_version`` (:func:`deletion_request_version`)."""
    reason = (reason or "").strip()
    if not reason:
        raise ComplianceInvalid("A rejection needs a reason.")
    dsr.check_refusal_reason(refusal_reason)
    with transaction.atomic():
        request = _locked_pending(request, "rejected", expected_version)
        request.request_status = RequestStatus.REJECTED
        request.rejection_reason = reason
        request.processed_at = timezone.now()
        request.processed_by = actor
        request.save(update_fields=["request_status", "rejection_reason", "processed_at", "processed_by"])
        dsr.record_refusal(request, refusal_reason)
        audit(
            customer_id=request.customer_id,
            action_type=AuditAction.STATUS_CHANGE,
            action_field="request_status",
            old_value=RequestStatus.PENDING,
            new_value=RequestStatus.REJECTED,
            reason=f"{AUDIT_PREFIX} {request.request_id}: rejected ({refusal_reason}): {reason}",
            actor=audit_actor(actor),
        )
    return request


def deletion_request_run(*, request: DataDeletionRequest, chunk_size: int | None = None, on_chunk=None) -> ErasureRun:
    """Carry out a PROCESSING request (the ``process_deletion_requests`` job calls this)."""
    return run_erasure(request, chunk_size=chunk_size, on_chunk=on_chunk)  # an ErasureError is a ComplianceError
