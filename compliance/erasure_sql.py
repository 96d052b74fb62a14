"""The erasure's grant: the one function that opens the write rules, and what it checks.

``backoffice_erasure_grant(request_id, table, pks)`` is SECURITY DEFINER, owned by the owner
role, with a fixed ``search_path``. It writes a grant (:mod:`customer_ops.erasure_grants`)
for the current transaction only when

* ``request_id`` is a deletion request in PROCESSING whose erasure run is not done;
* ``table`` is a table an erasure changes (``backoffice_private_erasable_tables``, written
  here from the personal-data declarations by the owner after each migrate) and the run's
  plan has a step for it that changes rows;
* every row in ``pks`` is one of the request's customer's rows of that table (the step's
  own row selection, compiled to SQL).

The columns granted are those the plan redacts or scrubs in that table, within what the
declarations allow (a plan written by hand cannot add one); a DELETE only for a step that
deletes rows. Anything else raises ``insufficient_privilege`` and writes nothing.
"""

from __future__ import annotations

import json

from django.db import connections

from compliance.choices import ErasureState, RequestStatus
from customer_ops.models import Customer
from customer_ops.personal_data import Scope

SENTINEL_CUSTOMER = -7_112_358_132_134  # stands for the customer id while a step's row query is compiled

FUNCTIONS_SQL = rf"""
CREATE TABLE IF NOT EXISTS public.backoffice_private_erasable_tables (
    relid oid PRIMARY KEY,
    table_name text NOT NULL,
    pk_column text NOT NULL,
    columns jsonb NOT NULL,     -- field name -> column: all an erasure may redact or scrub here
    may_delete boolean NOT NULL,
    rows_sql text NOT NULL      -- the primary keys of customer $1's rows (the step's selection)
);

CREATE OR REPLACE FUNCTION public.backoffice_erasure_grant(request text, rel regclass, pks bigint[])
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $fn$
DECLARE
    run record;
    t record;
    step jsonb;
    names text[];
    allowed text[];
    found_rows bigint;
    wanted bigint[] := ARRAY(SELECT DISTINCT p FROM unnest(pks) AS p WHERE p IS NOT NULL);
BEGIN
    SELECT r.customer_id, r.plan INTO run
    FROM public.customer_data_deletion_requests d
    JOIN public.compliance_erasure_runs r ON r.request_id = d.id AND r.customer_id = d.customer_id
    WHERE d.request_id = request AND d.request_status = '{RequestStatus.PROCESSING}'
      AND r.state <> '{ErasureState.DONE}';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'erasure grant refused: % is not a deletion request being erased', request
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO t FROM public.backoffice_private_erasable_tables WHERE relid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'erasure grant refused: % is not a table an erasure changes', rel
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT s INTO step FROM jsonb_array_elements(run.plan -> 'tables') AS s WHERE s ->> 'table' = t.table_name;
    IF step IS NULL OR step ->> 'action' NOT IN ('redact', 'scrub', 'delete', 'anonymise') THEN
        RAISE EXCEPTION 'erasure grant refused: the plan of % changes nothing in %', request, rel
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    names := ARRAY(
        SELECT jsonb_array_elements_text(coalesce(step -> 'redacted', '[]') || coalesce(step -> 'scrubbed', '[]'))
    );
    IF step ->> 'action' = 'anonymise' THEN
        names := names || 'status'::text;
    END IF;
    allowed := ARRAY(SELECT t.columns ->> n FROM unnest(names) AS n WHERE t.columns ? n);
    EXECUTE format('SELECT count(*) FROM (%s) AS c(pk) WHERE c.pk = ANY ($2)', t.rows_sql)
        INTO found_rows USING run.customer_id, wanted;
    IF found_rows <> cardinality(wanted) THEN
        RAISE EXCEPTION 'erasure grant refused: % of the % rows are not customer %''s rows of %',
            cardinality(wanted) - found_rows, cardinality(wanted), run.customer_id, rel
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM public.backoffice_private_erasure_grants WHERE xid < pg_snapshot_xmin(pg_current_snapshot());
    INSERT INTO public.backoffice_private_erasure_grants (xid, relid, pk_column, pks, columns, may_delete, request_id)
    VALUES (pg_current_xact_id(), rel, t.pk_column, wanted, allowed,
            step ->> 'action' = 'delete' AND t.may_delete, request);
    RETURN cardinality(wanted);
END
$fn$;

-- Only the roles the project grants it to (customer_ops.db_roles) may call it.
REVOKE ALL ON FUNCTION public.backoffice_erasure_grant(text, regclass, bigint[]) FROM PUBLIC;
"""


def install(connection) -> None:
    """(Re)create the registry table and the grant function; idempotent, as the owner."""
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS_SQL)


def _rows_sql(step, connection) -> str:
    """The step's row selection for one customer as SQL, the customer id as ``$1``."""
    queryset = step.rows(SENTINEL_CUSTOMER).order_by().values_list("pk", flat=True)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    composed = connection.ops.compose_sql(sql, params)
    if composed.count(str(SENTINEL_CUSTOMER)) != 1:
        raise RuntimeError(f"{step.table}: cannot compile the customer's row selection: {composed}")
    return composed.replace(str(SENTINEL_CUSTOMER), "$1")


def erasable_tables(connection) -> list[dict]:
    """Per step of the erasure: the columns it may ever change, and whether it deletes."""
    from compliance.erasure import steps

    every = [s.value for s in Scope]
    found = []
    for step in steps():
        names = {*step.data.fields_in(every), *step.scrubbed(every, scrubbing=True)}
        if step.base is Customer and not step.historical:
            names.add("status")  # anonymisation
        found.append(
            {
                "table": step.table,
                "pk_column": step.model._meta.pk.column,
                "columns": {name: step.model._meta.get_field(name).column for name in sorted(names)},
                "may_delete": step.data.deletes_rows(every),
                "rows_sql": _rows_sql(step, connection),
            }
        )
    return found


def sync_erasable_tables(sender=None, using="default", **kwargs) -> None:
    """post_migrate: rewrite the registry from the declarations, as the owner (the runtime
    role may not write it, and a migrate as the runtime role leaves it as it is)."""
    from customer_ops.db_roles import runtime_role

    connection = connections[using]
    if runtime_role() and connection.settings_dict.get("USER") == runtime_role():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.backoffice_private_erasable_tables') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        rows = erasable_tables(connection)
        cursor.execute("DELETE FROM public.backoffice_private_erasable_tables")
        for row in rows:
            cursor.execute(
                "INSERT INTO public.backoffice_private_erasable_tables"
                " (relid, table_name, pk_column, columns, may_delete, rows_sql)"
                " VALUES (%s::regclass, %s, %s, %s::jsonb, %s, %s)",
                [
                    row["table"],
                    row["table"],
                    row["pk_column"],
                    json.dumps(row["columns"]),
                    row["may_delete"],
                    row["rows_sql"],
                ],
            )
