"""Right of access: everything held about one customer, as one archive.

Driven by the personal-data declarations like the erasure: every declared table (this
domain's, plus the platform's customers, orders and sessions) contributes one file of the
customer's rows, JSON or CSV. Columns the downloading user may not see (a dispute's legal
fields, see :func:`customer_ops.personal_data.hidden_fields`) are left out. Rows are read
in chunks, so a customer with a long history does not load into memory at once.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from customer_ops.personal_data import declarations, hidden_fields

FORMATS = ("json", "csv")


def _tables(customer_id: int, user):
    for model, data in sorted(declarations().items(), key=lambda item: item[0]._meta.db_table):
        path = data.customer_path
        hidden = hidden_fields(model, user)
        columns = [f.attname for f in model._meta.concrete_fields if f.name not in hidden]
        rows = model._default_manager.filter(**{path: customer_id}).order_by("pk").values(*columns)
        yield model._meta.db_table, columns, rows


def export_customer(customer_id: int, *, user, fmt: str = "json") -> tuple[tempfile.SpooledTemporaryFile, dict]:
    """A zip archive (file object, at position 0) and its manifest."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    archive = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    manifest = {
        "customer_id": customer_id,
        "generated_at": timezone.now().isoformat(),
        "generated_by": user.get_username(),
        "format": fmt,
        "tables": {},
    }
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for table, columns, rows in _tables(customer_id, user):
            count = 0
            with zf.open(f"{table}.{fmt}", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
                if fmt == "csv":
                    writer = csv.DictWriter(out, fieldnames=columns)
                    writer.writeheader()
                    for row in rows.iterator(chunk_size=2000):
                        writer.writerow({k: _csv_value(v) for k, v in row.items()})
                        count += 1
                else:
                    out.write("[")
                    for row in rows.iterator(chunk_size=2000):
                        out.write(("," if count else "") + "\n" + json.dumps(row, cls=DjangoJSONEncoder))
                        count += 1
                    out.write("\n]\n")
            manifest["tables"][table] = {"rows": count, "columns": columns}
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    archive.seek(0)
    return archive, manifest


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder)
    return value
