"""The two shared assertions behind the suite's rules (see tests/README.md).

* :func:`assert_page_shows` -- an absence check ("the legal notes are not on the page") is
  only worth something next to a presence check on the same response: a 403, a redirect
  or an empty page would pass it alone.
* :func:`unchanged` -- a refusal ("the service raises", "the admin answers 403") is only
  proven when the rows it could have written, and the audit log, read back the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.db import models
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
