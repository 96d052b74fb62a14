"""Scheduled compliance work: carrying out approved GDPR erasures.

``process_deletion_requests`` runs every PROCESSING request: approved here, or inserted
directly in PROCESSING by another service of the platform. Each erasure is chunked,
idempotent and resumable (:mod:`compliance.erasure`), so the job is safe to re-run at any
time, and a request waiting on a legal hold is finished by the first run after it closes.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.choices import ErasureState, RequestStatus
from compliance.models import DataDeletionRequest
from compliance.services import ComplianceError, deletion_request_run


def process_deletion_requests(
    *, request_id: str | None = None, chunk_size: int | None = None, log: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    requests = DataDeletionRequest.objects.filter(request_status=RequestStatus.PROCESSING).order_by("requested_at")
    if request_id:
        requests = DataDeletionRequest.objects.filter(request_id=request_id)
    totals = {"completed": 0, "held": 0, "failed": 0}
    for request in requests.iterator():
        try:
            run = deletion_request_run(request=request, chunk_size=chunk_size, on_chunk=None)
        except ComplianceError as exc:
            totals["failed"] += 1
            log(f"{request.request_id}: {exc}")
            continue
        changed = sum(t["rows"] for t in run.outcome.get("tables", []))
        if run.state == ErasureState.DONE:
            totals["completed"] += 1
            log(f"{request.request_id}: completed, {changed} row(s) changed in {run.chunks} chunk(s)")
        else:
            totals["held"] += 1
            held = sum(t["held"] for t in run.outcome.get("tables", []))
            log(f"{request.request_id}: {changed} row(s) changed, {held} row(s) held by a legal hold")
    return totals
