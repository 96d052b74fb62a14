"""Batch endpoints (the ML pipeline, the auth and app systems): one shape for all.

The body is ``{"items": [...]}``; each item is an object whose keys the domain service
declares (``customer_ops.batches.Field`` dicts such as ``fraud.services.ALERT_FIELDS``),
and the service checks the whole batch and refuses it with every bad item listed, so the
schema here bounds the count and documents the keys (generated from the same
declarations: a key added there shows up here).
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


def batch_schema(name: str, max_items: int) -> type[Schema]:
    """``{"items": [object, ...]}`` with 1 to ``max_items`` items."""
    annotations = {"items": list[dict[str, Any]]}
    namespace = {
        "__annotations__": annotations,
        "items": Field(min_length=1, max_length=max_items, description=f"1 to {max_items:,} items, all or nothing."),
    }
    return type(name, (Schema,), namespace)


class Written(Schema):
    written: int = Field(description="How many rows were written.")
    ids: list[int] = Field(default_factory=list, description="The new rows' ids, in the items' order (if any).")


def describe(fields: dict) -> str:
    """A Markdown table of an item's keys, from the service's declaration."""
    lines = ["| key | required | accepted values |", "|---|---|---|"]
    for key, field in fields.items():
        lines.append(f"| `{key}` | {'yes' if field.required else 'no'} | {_values(field.parse)} |")
    return "\n".join(lines)


def _values(parse) -> str:
    """The enum values a ``customer_ops.batches.choice`` parser accepts; else its doc's first line."""
    for cell in parse.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
            return ", ".join(f"`{v}`" for v in value)
    return ((parse.__doc__ or "").strip().splitlines() or [""])[0]
