"""The history tables of the ruled models are append-only in the database too.

A django-simple-history row is evidence of what a row looked like and who changed it; the
application only ever inserts them. Every history table of a model that declares write
rules (:func:`customer_ops.write_rules.ruled_models`, simple-history's registry) gets:

* a row trigger refusing UPDATE and DELETE, unless an erasure's grant covers the row and
  the columns (:mod:`customer_ops.erasure_grants`): erasure scrubs history through the same
  path as the tables it copies;
* a statement trigger refusing TRUNCATE.

They are installed after every migrate (post_migrate, as the owner) from the registries,
so a history table added later is covered without anyone listing it; the functions have
a fixed ``search_path`` and no setting skips them.
"""

from __future__ import annotations

from django.db import connections

from customer_ops.personal_data import historical_models
from customer_ops.write_rules import ruled_models

ROW_TRIGGER = "backoffice_history_append_only"
TRUNCATE_TRIGGER = "backoffice_history_no_truncate"

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION public.backoffice_history_append_only()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $fn$
BEGIN
    IF public.backoffice_erasure_permits(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW), NULL) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%: history is append-only, % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$fn$;

CREATE OR REPLACE FUNCTION public.backoffice_history_no_truncate()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION '%: history is append-only, TRUNCATE is not allowed', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$fn$;
"""

TRIGGERS_SQL = """
CREATE OR REPLACE TRIGGER {row} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION public.backoffice_history_append_only();
CREATE OR REPLACE TRIGGER {truncate} BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION public.backoffice_history_no_truncate();
"""


def ruled_history_tables() -> list[str]:
    """The history table of every model that declares write rules."""
    history = historical_models()
    return sorted(history[m]._meta.db_table for m in ruled_models() if m in history)


def install(sender=None, using="default", **kwargs) -> None:
    """post_migrate: (re)install the functions and each history table's triggers, as the
    owner (a migrate as the runtime role could not, and leaves them as they are)."""
    from customer_ops.db_roles import runtime_role

    connection = connections[using]
    if runtime_role() and connection.settings_dict.get("USER") == runtime_role():
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS_SQL)
        for table in ruled_history_tables():
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if cursor.fetchone()[0]:
                quoted = connection.ops.quote_name(table)
                cursor.execute(TRIGGERS_SQL.format(row=ROW_TRIGGER, truncate=TRUNCATE_TRIGGER, table=quoted))
