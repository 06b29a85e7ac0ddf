"""The core's pipeline port, wired to the job queue: a submitted application is queued for validation."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from issuance.runtime import Runtime
from workers.jobs import enqueue_validation
from workers.personalization import enqueue_personalization
from workers.print_jobs import enqueue_printing
from workers.queues import JobQueue

log = logging.getLogger(__name__)


class QueuePipeline:
    """Implements `issuance.pipeline.Pipeline` on a `JobQueue`."""

    def __init__(self, rt: Runtime, jobs: JobQueue) -> None:
        self.rt, self.jobs = rt, jobs

    def submitted(self, application_ids: Sequence[int]) -> None:
        try:
            enqueue_validation(self.rt, self.jobs, application_ids)
        except Exception:  # the database is the truth: the reconciler enqueues them later
            log.exception("could not enqueue validation of applications %s", list(application_ids))

    def batched(self, application_ids: Sequence[int]) -> None:
        try:
            enqueue_personalization(self.rt, self.jobs, application_ids)
        except Exception:  # the database is the truth: the reconciler enqueues them later
            log.exception("could not enqueue personalization of applications %s", list(application_ids))

    def printable(self, card_ids: Sequence[int]) -> None:
        try:
            enqueue_printing(self.rt, self.jobs, card_ids)
        except Exception:  # the database is the truth: the reconciler enqueues them later
            log.exception("could not enqueue printing of cards %s", list(card_ids))
