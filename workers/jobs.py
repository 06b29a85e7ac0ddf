"""rq job functions: each takes ids only, loads state from the database, and is idempotent."""

from __future__ import annotations

from collections.abc import Sequence

from issuance.config import Settings
from workers import context, queues, validation


def validate_applications(ids: list[int]) -> dict[str, object]:
    """Validate a chunk of applications against the civil registry."""
    rt = context.runtime()
    result = validation.validate(rt, ids)
    # Ids left waiting for the registry keep their lease; the reconciler retries them after it.
    queues.done(queues.connect(rt.settings), queues.VALIDATE, ids)
    return {"outcomes": dict(result.outcomes), "waiting": result.waiting, "skipped": result.skipped}


def noop(ids: list[int]) -> int:
    """A job that does nothing: the benchmark's measure of rq's own overhead."""
    return len(ids)


VALIDATE_JOB = f"{__name__}.validate_applications"
NOOP_JOB = f"{__name__}.noop"


def enqueue_validation(settings: Settings, ids: Sequence[int]) -> list[str]:
    """Queue validation for these ids, several per job."""
    conn = queues.connect(settings)
    return queues.enqueue_ids(conn, queues.VALIDATE, VALIDATE_JOB, ids, settings.validate_batch_size)
