"""Every project list's row links, built from one reverse() per list (GuardedChangeList),
equal Django's own reverse() per row, for integer keys and for text keys that need quoting."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList

from customer_ops.admin_base import GuardedChangeList

KEYS = [1, 42, 9_000_000_001, "HIGH", "a b/c_d:e?#%&=+", "né@x.test", "_5F", "0pk0slot0x"]


class _Row:
    def __init__(self, attname, value):
        setattr(self, attname, value)


def _changelists():
    for model, model_admin in admin.site._registry.items():
        if issubclass(model_admin.get_changelist(None), GuardedChangeList):
            cl = GuardedChangeList.__new__(GuardedChangeList)  # only what url_for_result reads
            cl.opts, cl.pk_attname, cl.model_admin = model._meta, model._meta.pk.attname, model_admin
            yield model, cl


@pytest.mark.django_db
def test_row_links_equal_a_reverse_per_row():
    checked = 0
    for model, cl in _changelists():
        for key in KEYS:
            row = _Row(cl.pk_attname, key)
            assert cl.url_for_result(row) == ChangeList.url_for_result(cl, row), (model, key)
            checked += 1
    assert checked > 20 * len(KEYS)  # every project admin, not a few
