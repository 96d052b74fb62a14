"""The shared assertions behind the suite's rules (see tests/README.md).

* :func:`assert_page_shows` -- an absence check ("the legal notes are not on the page") is
  only worth something next to a presence check on the same response: a 403, a redirect
  or an empty page would pass it alone.
* :func:`unchanged` -- a refusal ("the service raises", "the admin answers 403") is only
  proven when the rows it could have written, and the audit log, read back the same.
* :func:`explain` -- a plan test names the index that must serve the query, not only the
  scans that must be absent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Max


def assert_page_shows(response, *, present: Iterable[str], absent: Iterable[str] = (), status: int = 200) -> str:
    """Assert the response is ``status`` (200) and holds every ``present`` and no ``absent`` text.

    ``present`` must not be empty: it is what proves the page is the one the absences are
    about. Returns the decoded body for any further checks.
    """
    present, absent = list(present), list(absent)
    assert present, "an absence check needs something that must be on the same page"
    assert response.status_code == status, f"expected {status}, got {response.status_code}"
    body = response.content.decode()
    missing = [text for text in present if text not in body]
    assert not missing, f"missing from the page: {missing}"
    leaked = [text for text in absent if text in body]
    assert not leaked, f"on the page but must not be: {leaked}"
    return body


Target = models.Model | models.QuerySet | type[models.Model]


def _rows(target: Target) -> list[dict]:
    """All field values of the target's rows, read fresh from the database."""
    if isinstance(target, models.Model):
        qs = type(target)._base_manager.filter(pk=target.pk)
    elif isinstance(target, models.QuerySet):
        qs = target.all()  # a new evaluation, not the cached result
    else:
        qs = target._base_manager.all()
    return list(qs.order_by("pk").values())


def _label(target: Target) -> str:
    if isinstance(target, models.Model):
        return f"{target._meta.label} pk={target.pk}"
    if isinstance(target, models.QuerySet):
        return f"{target.model._meta.label} queryset"
    return f"every {target._meta.label}"


def _audit_state() -> tuple[int, int | None]:
    audit_log = apps.get_model("compliance", "AuditLog")
    state = audit_log.objects.aggregate(n=models.Count("pk"), last=Max("pk"))
    return state["n"], state["last"]


@contextlib.contextmanager
def unchanged(*targets: Target, audit: bool = True) -> Iterator[None]:
    """Assert the targets' rows (and the audit log) are identical after the block.

    Each target is a model instance (its row), a queryset (its rows) or a model class (the
    whole table). Put the refusal inside: ``with unchanged(ticket), pytest.raises(Error):``.
    The rows are compared field by field from a fresh read, so a write that the code under
    test made and then "refused" (a half-written change) is caught.
    """
    assert targets or audit, "unchanged() needs something to compare"
    before = [_rows(t) for t in targets]
    audit_before = _audit_state() if audit else None
    yield
    for target, rows in zip(targets, before, strict=True):
        assert _rows(target) == rows, f"{_label(target)} changed"
    if audit:
        assert _audit_state() == audit_before, "the audit log changed"


@dataclass(frozen=True)
class Plan:
    """What EXPLAIN says a query reads: per table, the indexes it searches and the tables it reads whole."""

    text: str
    indexes: dict[str, set[str]]  # table -> indexes read with a condition (or partial indexes)
    keys: dict[str, set[str]]  # table -> the first key of each of those indexes ("customer_id", "upper(subject)")
    whole: set[str]  # tables read whole: a Seq Scan, or an index scan without a condition

    def uses(self, table: str) -> set[str]:
        return self.indexes.get(table, set())


def explain(qs: models.QuerySet | str, *, bitmap_only: bool = False, in_order: bool = False) -> Plan:
    """EXPLAIN ``qs`` with sequential scans priced out (the test tables are tiny: this asks
    whether an index CAN serve the query). ``bitmap_only`` also prices out plain index scans,
    so a table is reached only through an index that serves the condition (a full scan of
    the primary key in its order, which a tiny table makes cheap, is no longer a way round).

    ``in_order`` prices out sorts and bitmap scans instead, so the plan keeps a Sort only when
    no index gives the query's order (a tiny table would be sorted anyway).

    ``qs`` is a queryset or a captured SQL statement. Partitions and their indexes are
    reported under their partitioned parent's names.
    """
    sql, params = (qs, None) if isinstance(qs, str) else qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:
            cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off")
        if in_order:
            cursor.execute("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (document,) = cursor.fetchone()
        cursor.execute(f"EXPLAIN {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        document = json.loads(document) if isinstance(document, str) else document

        def root(relation: str) -> tuple[str, str, bool, str]:
            """(index or table, its table, whether a partial index, its first key), as partitioned roots."""
            cursor.execute(
                "SELECT coalesce(pg_partition_root(c.oid), c.oid)::regclass::text,"
                " coalesce(pg_partition_root(t.oid), t.oid)::regclass::text, i.indpred IS NOT NULL,"
                " pg_get_indexdef(i.indexrelid, 1, true)"
                " FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid,"
                " LATERAL coalesce(i.indrelid, c.oid) AS t(oid)"
                " WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
                [relation],
            )
            return cursor.fetchone()

        indexes: dict[str, set[str]] = {}
        keys: dict[str, set[str]] = {}
        whole: set[str] = set()

        def walk(node: dict) -> None:
            kind = node.get("Node Type", "")
            if kind == "Seq Scan":
                whole.add(root(node["Relation Name"])[0])
            elif "Index Name" in node:
                index, table, partial, key = root(node["Index Name"])
                # A partial index (customer_tickets_open_idx) holds only the rows its predicate
                # selects: read without a condition, it still is not the whole table.
                if "Index Cond" in node or partial:
                    indexes.setdefault(table, set()).add(index)
                    keys.setdefault(table, set()).add(key)
                else:
                    whole.add(table)
            for child in node.get("Plans", []):
                walk(child)

        walk(document[0]["Plan"])
        # SET LOCAL outlives the savepoint: put the planner back for the rest of the test.
        cursor.execute(
            "SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on; SET LOCAL enable_indexonlyscan = on;"
            " SET LOCAL enable_sort = on; SET LOCAL enable_bitmapscan = on"
        )
    return Plan(text=text, indexes=indexes, keys=keys, whole=whole)
