"""The project's URLs plus a test-only API built like v1 (api.v1.build): a POST that writes
one marker row, so idempotency and the call log are tested without a domain endpoint."""

from __future__ import annotations

import time

from django.urls import path
from ninja import Router, Schema, Status

from api.auth import Scoped
from api.calls import affected
from api.idempotency import idempotent
from api.models import ApiCall
from api.v1 import build
from backoffice.urls import urlpatterns as project_urls
from customer_ops.errors import Invalid
from customer_ops.scopes import LOGS_WRITE

MARKER = "test-note"
router = Router()


class NoteIn(Schema):
    note: str
    slow: float = 0


class NoteOut(Schema):
    id: int
    note: str


@router.post("/notes", auth=Scoped(LOGS_WRITE), response={201: NoteOut})
@idempotent
def create_note(request, payload: NoteIn):
    time.sleep(min(payload.slow, 3))
    row = ApiCall.objects.create(client_id=request.auth.client_id, operation=MARKER, method="TEST", status=0)
    affected(request, [row.pk])
    if payload.note == "refuse":
        raise Invalid(
            "Two items are wrong.",
            errors=[{"index": 0, "field": "a", "message": "bad a"}, {"index": 3, "field": "b", "message": "bad b"}],
        )
    return Status(201, NoteOut(id=row.pk, note=payload.note))


test_api = build(urls_namespace="api-test", version="test", routers=[("", router)])
urlpatterns = [path("api/test/", test_api.urls), *project_urls]
