"""The reconciler: the database says which jobs should exist; re-enqueue the ones Redis lost (DESIGN §7).

It runs on a schedule of its own (inside every worker, between dequeues that time out after the
interval, in `issuance reconcile --every N`, and in the serving process on embedded defaults), so
recovery never waits for traffic or a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import or_, select

from issuance.models import Application, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from workers.jobs import enqueue_validation
from workers.queues import VALIDATE, JobQueue

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


@dataclass(frozen=True)
class Report:
    """What one reconcile pass found, and which of those it enqueued (a racing pass may win some)."""

    lost: list[int]
    stale: list[int]
    expired: list[int]
    requeued: list[int]


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
    return moment is not None and _aware(moment) >= before


def requeue_grace(rt: Runtime) -> dt.timedelta:
    """How long an id just enqueued is left alone: a job is written to Redis after its mark."""
    return dt.timedelta(seconds=min(rt.settings.lease_seconds, rt.settings.reconcile_every))


def reconcile_validation(rt: Runtime, jobs: JobQueue) -> Report:
    """Re-enqueue submitted applications with no live job, and validating ones whose lease lapsed.

    A job still waiting in the queue is never doubled, however long the backlog; a job that
    looks taken after a whole lease belongs to a dead worker, and is enqueued again.
    """
    now = utcnow()
    with rt.db.session() as s:
        submitted = list(s.scalars(
            select(Application.id).where(Application.state == ApplicationState.SUBMITTED)))
        expired = list(s.scalars(select(Application.id).where(
            Application.state == ApplicationState.VALIDATING,
            or_(Application.lease_until.is_(None), Application.lease_until < now))))
    marks = jobs.pending(VALIDATE)
    found = _jobs(jobs, {marks[i] for i in submitted if i in marks})
    carrying = {i: found.get(marks.get(i, "")) for i in submitted}
    lost = [i for i, job in carrying.items() if job is None or job.get_status(refresh=False) not in LIVE]
    waiting = set(jobs.queue(VALIDATE).get_job_ids())
    lease_ago = now - dt.timedelta(seconds=rt.settings.lease_seconds)
    stale = [i for i, job in carrying.items()
             if i not in lost and job is not None and not _alive(job, waiting, lease_ago)]
    requeued = enqueue_validation(rt, jobs, [*lost, *stale, *expired],
                                  unless_since=now - requeue_grace(rt))
    return Report(sorted(lost), sorted(stale), sorted(expired), requeued)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every timestamp we write is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def reconcile(rt: Runtime, jobs: JobQueue) -> Report:
    """One pass over every stage that has jobs (validation so far)."""
    return reconcile_validation(rt, jobs)
