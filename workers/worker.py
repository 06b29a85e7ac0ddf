"""Worker entry points: a forking rq worker on Redis, or jobs worked in-process on fakeredis."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from issuance.config import Settings
from issuance.runtime import Runtime
from workers import context, queues
from workers.reconciler import reconcile

log = logging.getLogger(__name__)
RECONCILE_EVERY = 60


class IssuanceWorker(Worker):
    """rq's forking worker, whose periodic maintenance also runs the reconciler."""

    settings: Settings
    reconciling = True

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if not self.reconciling:
            return
        # The parent must not keep engines across forks: open, reconcile, close.
        rt = Runtime(self.settings)
        try:
            report = reconcile(rt)
            if report.requeued:
                log.info("reconciler re-enqueued %d applications", len(report.requeued))
        except Exception:  # a failed pass must not stop the worker; the next one retries
            log.exception("reconcile pass failed")
        finally:
            rt.close()


def _check_schema(settings: Settings) -> None:
    rt = Runtime(settings)
    try:
        rt.ensure_schema()
    finally:
        rt.close()


def run_worker(settings: Settings, queue_names: Sequence[str], *, burst: bool = False,
               reconcile_every: int = RECONCILE_EVERY) -> bool:
    """Work the named queues with forking children until stopped (or empty, with burst).

    The reconciler runs at start and every `reconcile_every` seconds; 0 turns it off.
    """
    # Check the schema once here, so each forked job need not; then hold no engine across forks.
    _check_schema(settings)
    conn = queues.connect(settings)
    worker = IssuanceWorker(
        [queues.queue(n, conn) for n in queue_names], connection=conn,
        serializer=JSONSerializer, maintenance_interval=reconcile_every if reconcile_every > 0 else 600,
    )
    worker.settings = settings
    worker.reconciling = reconcile_every > 0
    return worker.work(burst=burst, logging_level="WARNING")


def work_in_process(rt: Runtime, queue_names: Sequence[str]) -> None:
    """The embedded default: run every queued job now, in this process, on fakeredis."""
    context.use(rt)
    conn = queues.connect(rt.settings)
    worker = SimpleWorker([queues.queue(n, conn) for n in queue_names], connection=conn,
                          serializer=JSONSerializer)
    worker.work(burst=True, logging_level="WARNING")
