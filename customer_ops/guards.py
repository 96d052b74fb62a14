"""The Python layer of the write rules: one generic receiver set for every model.

It reads the declarations of :mod:`customer_ops.write_rules` and raises a clear error
before the database (which would refuse the write anyway) is reached. Bulk writes that
send no per-row signal (``QuerySet.update()``, ``delete()``, ``bulk_update()``) are
covered by :class:`RuleQuerySet`, which every ruled model uses as its manager.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.db import models
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from customer_ops.write_rules import (
    ImmutableRecordError,
    NeverUpdateError,
    is_bypassed,
    rules_for,
)

_SNAPSHOT = "_never_update_snapshot"


def _attnames(model, fields: Iterable[str]) -> list[str]:
    return [model._meta.get_field(f).attname for f in fields]


@functools.cache  # once per model: every loaded row is snapshotted
def _protected_attnames(model) -> tuple[str, ...]:
    rules = rules_for(model)
    return tuple(_attnames(model, rules.never_update)) if rules else ()


def check_update(model: type[models.Model], fields: Iterable[str]) -> None:
    """Refuse an update of ``fields`` (field names or attnames) that the model's rules forbid."""
    rules = rules_for(model)
    if rules is None or is_bypassed(model):
        return
    table = model._meta.db_table
    if rules.append_only:
        raise ImmutableRecordError(f"{table} is an immutable log: rows are never updated.")
    protected = set(rules.never_update) | set(_attnames(model, rules.never_update))
    hit = sorted(set(fields) & protected)
    if hit:
        raise NeverUpdateError(f"{table}: {', '.join(hit)} can never be changed once written.")


def check_delete(model: type[models.Model]) -> None:
    rules = rules_for(model)
    if rules is not None and rules.append_only and not is_bypassed(model):
        raise ImmutableRecordError(f"{model._meta.db_table} is an immutable log: rows are never deleted.")


def snapshot(instance) -> None:
    """Keep the loaded values of the fields that may never change, for ``_guard_save``.

    Called by ``RuleBoundModel.from_db`` for every row read from the database, and after
    every save. Not a ``post_init`` receiver: that signal fires for every model, ruled or
    not, and Django sends it through the signal machinery for each instance, a tenth of
    the alert queue's CPU for its hundred rows and their customers. Instances built in
    Python are new (``_state.adding``): the guard has nothing to compare until they are
    saved."""
    protected = _protected_attnames(type(instance))
    if protected:
        # Deferred fields are absent from __dict__: only what was loaded can be compared.
        loaded = instance.__dict__
        setattr(instance, _SNAPSHOT, {a: loaded[a] for a in protected if a in loaded})


@receiver(post_save, dispatch_uid="write_rules_resnapshot")
def _resnapshot(sender, instance, **kwargs):
    snapshot(instance)


@receiver(pre_save, dispatch_uid="write_rules_pre_save")
def _guard_save(sender, instance, raw=False, **kwargs):
    rules = rules_for(sender)
    if rules is None or instance._state.adding:
        return
    if rules.append_only:
        check_update(sender, ["*"])
    snapshot = getattr(instance, _SNAPSHOT, {})
    changed = [a for a, old in snapshot.items() if instance.__dict__.get(a) != old]
    if changed:
        check_update(sender, changed)


@receiver(pre_delete, dispatch_uid="write_rules_pre_delete")
def _guard_delete(sender, instance, **kwargs):
    check_delete(sender)


class RuleQuerySet(models.QuerySet):
    """Bulk writes checked against the same declarations as single-row saves."""

    def update(self, **kwargs):
        check_update(self.model, kwargs.keys())
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        check_update(self.model, fields)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self):
        check_delete(self.model)
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True
    update.alters_data = True
