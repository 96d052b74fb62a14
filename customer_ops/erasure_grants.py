"""The database half of the sanctioned erasure bypass: grants, and the check the triggers run.

The write-rule triggers (:mod:`customer_ops.write_rules`) refuse an UPDATE or DELETE of a
protected row unless ``backoffice_erasure_permits`` finds a grant written in the *current
transaction* for that table, that row, and every protected column the change touches.

Only the database writes grants: the table is private (the runtime role may read it, never
write it: :data:`customer_ops.db_roles.PRIVATE_TABLE_PREFIX`), and the one function that
inserts into it, ``backoffice_erasure_grant`` (:mod:`compliance.erasure_sql`), is SECURITY
DEFINER, owned by the owner role, and checks the running erasure's plan first. Nothing a
session can set (``pgtrigger.ignore``, ``search_path``, a TEMP table of the same name)
changes the answer: the functions run with a fixed ``search_path`` and name every table
with its schema, and a transaction id cannot be chosen.

A grant is released at the end of its ``erasure_bypass`` block
(``backoffice_erasure_release``), and dies with its transaction anyway (its ``xid`` never
comes back; finished ones are deleted by the next grant).
"""

from __future__ import annotations

from django.db import connection as default_connection

GRANTS_SQL = r"""
CREATE TABLE IF NOT EXISTS public.backoffice_private_erasure_grants (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid xid8 NOT NULL,                -- the transaction the grant lives in
    relid oid NOT NULL,               -- the table (a partitioned table's parent)
    pk_column text NOT NULL,
    pks bigint[] NOT NULL,            -- the rows
    columns text[] NOT NULL,          -- the columns they may change
    may_delete boolean NOT NULL,
    request_id text NOT NULL,         -- the deletion request being erased
    granted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS backoffice_private_erasure_grants_xid_idx
    ON public.backoffice_private_erasure_grants (xid, relid);

-- The end of an erasure_bypass block: its grants go before the transaction does.
CREATE OR REPLACE FUNCTION public.backoffice_erasure_release()
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    WITH released AS (
        DELETE FROM public.backoffice_private_erasure_grants WHERE xid = pg_current_xact_id() RETURNING 1
    )
    SELECT count(*)::integer FROM released;
$fn$;

-- Called by the write-rule triggers (as the role that writes), only when a change would
-- otherwise be refused. TG_RELID is a partition's for a partitioned log: the grant names the parent.
CREATE OR REPLACE FUNCTION public.backoffice_erasure_permits(rel oid, op text, old jsonb, new jsonb, protected text[])
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    root oid := coalesce(pg_partition_root(rel::regclass)::oid, rel);
    g record;
    changed text[];
BEGIN
    IF op NOT IN ('UPDATE', 'DELETE') OR old IS NULL THEN
        RETURN false;
    END IF;
    FOR g IN
        SELECT pk_column, pks, columns, may_delete FROM public.backoffice_private_erasure_grants
        WHERE xid = pg_current_xact_id() AND relid = root
    LOOP
        CONTINUE WHEN NOT coalesce((old ->> g.pk_column)::bigint = ANY (g.pks), false);
        IF op = 'DELETE' THEN
            IF g.may_delete THEN
                RETURN true;
            END IF;
            CONTINUE;
        END IF;
        SELECT coalesce(array_agg(k), '{}') INTO changed FROM jsonb_object_keys(old) AS k
        WHERE (protected IS NULL OR k = ANY (protected)) AND old -> k IS DISTINCT FROM new -> k;
        IF changed <@ g.columns THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$fn$;
"""


def install(connection=default_connection) -> None:
    """(Re)create the table and the check; idempotent, run by a migration as the owner."""
    with connection.cursor() as cursor:
        cursor.execute(GRANTS_SQL)
