"""Which ids of a queue still have a live job: what every stage's reconciler asks of rq (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from issuance.runtime import Runtime
from workers.queues import JobQueue

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def _jobs(jobs: JobQueue, job_ids: set[str]) -> dict[str, Job]:
    found = Job.fetch_many(sorted(job_ids), connection=jobs.connection, serializer=JSONSerializer)
    return {j.id: j for j in found if j is not None}


def _alive(job: Job, waiting: set[str], before: dt.datetime) -> bool:
    """A job that will still run: in its queue, or started (or dequeued) less than a lease ago.

    A job dequeued by a worker that was then killed can sit outside the queue with status
    `queued` (rq's intermediate list) or `started`; after a lease it counts as dead.
    """
    status = job.get_status(refresh=False)
    if status in (JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return True
    if status == JobStatus.QUEUED:
        return job.id in waiting or _since(job.enqueued_at, before)
    return status == JobStatus.STARTED and _since(job.started_at, before)


def _since(moment: dt.datetime | None, before: dt.datetime) -> bool:
    return moment is not None and aware(moment) >= before


def aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every timestamp we write is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def requeue_grace(rt: Runtime) -> dt.timedelta:
    """How long an id just enqueued is left alone: a job is written to Redis after its mark."""
    return dt.timedelta(seconds=min(rt.settings.lease_seconds, rt.settings.reconcile_every))


def lost_and_stale(rt: Runtime, jobs: JobQueue, queue_name: str, ids: Sequence[int], now: dt.datetime
                   ) -> tuple[list[int], list[int]]:
    """Of `ids` waiting for `queue_name`: those with no live job (lost), and those a dead worker took (stale).

    A job still waiting in the queue is never counted, however long the backlog; a job that
    looks taken after a whole lease belongs to a dead worker.
    """
    carrying, waiting = _carrying(jobs, [queue_name], ids)
    lost = [i for i, job in carrying.items() if job is None or job.get_status(refresh=False) not in LIVE]
    lease_ago = now - dt.timedelta(seconds=rt.settings.lease_seconds)
    stale = [i for i, job in carrying.items()
             if i not in lost and job is not None and not _alive(job, waiting, lease_ago)]
    return sorted(lost), sorted(stale)


def without_live_job(rt: Runtime, jobs: JobQueue, queue_names: Sequence[str], ids: Sequence[int],
                     now: dt.datetime) -> list[int]:
    """Of `ids`, those with no live job on any of `queue_names` (lost, or taken by a dead worker)."""
    carrying, waiting = _carrying(jobs, queue_names, ids)
    lease_ago = now - dt.timedelta(seconds=rt.settings.lease_seconds)
    return [i for i, job in carrying.items() if job is None or not _alive(job, waiting, lease_ago)]


def _carrying(jobs: JobQueue, queue_names: Sequence[str], ids: Sequence[int]
              ) -> tuple[dict[int, Job | None], set[str]]:
    """The job noted as carrying each id (None: no such job), and the ids of jobs still queued."""
    marks: dict[int, str] = {}
    waiting: set[str] = set()
    for name in queue_names:
        marks.update(jobs.pending(name))
        waiting.update(jobs.queue(name).get_job_ids())
    found = _jobs(jobs, {marks[i] for i in ids if i in marks})
    return {i: found.get(marks.get(i, "")) for i in ids}, waiting
