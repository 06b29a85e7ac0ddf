"""The reconciler: the database says which jobs should exist; re-enqueue the ones Redis lost (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import or_, select

from issuance.models import Application, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from workers import queues
from workers.jobs import enqueue_validation

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


@dataclass(frozen=True)
class Report:
    """What one reconcile pass found and re-enqueued."""

    lost: list[int]
    stale: list[int]
    expired: list[int]

    @property
    def requeued(self) -> list[int]:
        return sorted({*self.lost, *self.stale, *self.expired})


def _live_job_ids(conn: Redis, job_ids: set[str]) -> set[str]:
    jobs = Job.fetch_many(sorted(job_ids), connection=conn, serializer=JSONSerializer)
    return {j.id for j in jobs if j is not None and j.get_status(refresh=False) in LIVE}


def reconcile_validation(rt: Runtime, conn: Redis) -> Report:
    """Re-enqueue submitted applications with no live job, and validating ones whose lease lapsed."""
    now = utcnow()
    stale_before = now - dt.timedelta(seconds=rt.settings.lease_seconds)
    with rt.db.session() as s:
        submitted = dict(s.execute(
            select(Application.id, Application.submitted_at)
            .where(Application.state == ApplicationState.SUBMITTED)).all())
        expired = list(s.scalars(select(Application.id).where(
            Application.state == ApplicationState.VALIDATING,
            or_(Application.lease_until.is_(None), Application.lease_until < now))))
    marks = queues.pending(conn, queues.VALIDATE)
    live = _live_job_ids(conn, {marks[i] for i in submitted if i in marks})
    lost = [i for i in submitted if marks.get(i) not in live]
    # A job can look alive in Redis while its worker is dead: after a lease, enqueue again anyway.
    stale = [i for i, at in submitted.items()
             if i not in lost and at is not None and _aware(at) < stale_before]
    report = Report(sorted(lost), sorted(stale), sorted(expired))
    if report.requeued:
        enqueue_validation(rt.settings, report.requeued)
    return report


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every timestamp we write is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def reconcile(rt: Runtime) -> Report:
    """One pass over every stage that has jobs (validation so far)."""
    return reconcile_validation(rt, queues.connect(rt.settings))
