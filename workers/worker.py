"""Worker entry points: forking rq workers on Redis, and the embedded queue's worker thread.

Both reconcile on a schedule that does not depend on traffic: an idle rq worker blocks in
BLMOVE for its whole dequeue timeout and runs maintenance only between dequeues, so the
dequeue timeout is set to the reconcile interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty

from issuance.config import Settings
from issuance.runtime import Runtime
from workers import context
from workers.print_jobs import print_queue_names
from workers.queues import EmbeddedQueue, JobQueue, open_queue
from workers.reconciler import Report, reconcile

log = logging.getLogger(__name__)
# rq's dequeue timeout is its worker TTL less this margin.
_RQ_TTL_MARGIN = 15


def reconcile_logged(rt: Runtime, jobs: JobQueue) -> Report | None:
    """One reconcile pass; a failed pass is logged, never fatal: the next one retries."""
    try:
        report = reconcile(rt, jobs)
    except Exception:
        log.exception("reconcile pass failed")
        return None
    if report.requeued:
        log.info("reconciler re-enqueued %d applications", len(report.requeued))
    return report


class IssuanceWorker(Worker):
    """rq's forking worker, whose periodic maintenance also runs the reconciler."""

    settings: Settings
    reconciling = True

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if not self.reconciling:
            return
        # The parent must not keep engines across forks: open, reconcile, close.
        rt = Runtime(self.settings, check_schema=False)
        try:
            reconcile_logged(rt, open_queue(self.settings))
        finally:
            rt.close()


def _check_schema(settings: Settings) -> None:
    rt = Runtime(settings)
    try:
        rt.ensure_schema()
    finally:
        rt.close()


def run_worker(settings: Settings, queue_names: Sequence[str], *, burst: bool = False,
               reconcile_every: int | None = None) -> bool:
    """Work the named queues with forking children until stopped (or empty, with burst).

    The reconciler runs at start and every `reconcile_every` seconds, idle or not; 0 turns it off.
    """
    every = settings.reconcile_every if reconcile_every is None else reconcile_every
    # Check the schema once here, so each forked job need not; then hold no engine across forks.
    _check_schema(settings)
    jobs = open_queue(settings)
    interval = every if every > 0 else 600
    worker = IssuanceWorker(
        [jobs.queue(n) for n in queue_names], connection=jobs.connection,
        serializer=JSONSerializer, maintenance_interval=interval,
        worker_ttl=interval + _RQ_TTL_MARGIN,
    )
    worker.settings = settings
    worker.reconciling = every > 0
    return worker.work(burst=burst, logging_level="WARNING")


def run_reconciler(settings: Settings, every: float, stop: threading.Event | None = None) -> None:
    """`issuance reconcile --every N`: a pass every N seconds until stopped."""
    stop = stop or threading.Event()
    while not stop.is_set():
        rt = Runtime(settings)
        try:
            reconcile_logged(rt, open_queue(settings))
        finally:
            rt.close()
        stop.wait(every)


class ThreadWorker(SimpleWorker):
    """rq's in-process worker, run from a thread: signals belong to the main thread, so job
    timeouts use a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


def drain(rt: Runtime, jobs: JobQueue, queue_names: Sequence[str]) -> None:
    """Run every job queued now, in this process (the embedded default and tests)."""
    context.use(rt)
    worker = ThreadWorker([jobs.queue(n) for n in queue_names], connection=jobs.connection,
                          serializer=JSONSerializer)
    worker.work(burst=True, logging_level="WARNING")


class QueueThread:
    """Works the embedded queue from a thread of the serving process, reconciling on a schedule."""

    def __init__(self, rt: Runtime, jobs: EmbeddedQueue, queue_names: Sequence[str]) -> None:
        self.rt, self.jobs, self.queue_names = rt, jobs, list(queue_names)
        self.every = max(rt.settings.reconcile_every, 1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-queue", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Finish the job at hand, then stop."""
        self._stop.set()
        self.jobs.wake()
        self._thread.join(timeout)

    def _run(self) -> None:
        due = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= due:
                # At start too: what a crashed process left behind is picked up at once.
                reconcile_logged(self.rt, self.jobs)
                due = time.monotonic() + self.every
            self.jobs.arrived.clear()
            if self._stop.is_set():  # a stop whose wake-up the clear() above erased
                break
            try:
                # Printers are registered at run time: their queues are looked up on every pass.
                drain(self.rt, self.jobs, [*self.queue_names, *print_queue_names(self.rt)])
            except Exception:
                log.exception("embedded queue: a pass failed; retrying after the interval")
            self.jobs.arrived.wait(max(0.0, due - time.monotonic()))
