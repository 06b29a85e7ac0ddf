"""The personalization stage's database side: the station's job source, its queue, and its failures.

A batched application is queued on `personalize.<station>` (one of its batch's stations). The
station takes the job off its queue, claims the application (`batched -> personalizing`) and
allocates a card with a lease; before the first write it records the card's identity
(`allocated -> encoding`), so a card is never encoded twice; it finishes with the card `locked`
and the application `personalized`, or spoils the card and puts the application back on its
queue for a new one. Each step is one transaction (DESIGN §3, §4).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from rq.job import Job as RqJob
from rq.serializers import JSONSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuance import audit
from issuance.batches import held_by_batch, paused_applications
from issuance.lifecycle import holder_serial
from issuance.models import Application, Batch, Card, Station, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, allocate_card, move
from personalization.lds.holder import LdsInputError
from personalization.station.loop import Job
from personalization.station.order import card_order, document_number
from personalization.station.result import CardRefused, PersonalizationError, PersonalizationResult, Step
from printing.pin_mailer import PinMailer, render_pin_mailer, spool_pin_mailer
from workers.jobs import mark_enqueued
from workers.liveness import lost_and_stale, requeue_grace
from workers.print_jobs import enqueue_printing
from workers.queues import JobQueue, personalize_queue

log = logging.getLogger(__name__)
A, C = ApplicationState, CardState
PERSONALIZE_JOB = f"{__name__}.personalize_applications"
# Cards a dead station may have left half-way; encoded and verified only exist inside one transaction.
IN_PROGRESS = (C.ALLOCATED, C.ENCODING, C.ENCODED, C.VERIFIED)
POLL = 0.5


def personalize_applications(ids: list[int]) -> None:
    """What rq would run: these jobs need the card reader, so only the station takes them (below)."""
    raise RuntimeError(f"applications {ids}: personalize.<station> jobs are taken by "
                       "`issuance station run --station CODE`, the process that holds the card reader")


def stations_of(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Each batched application's station: one of its batch's stations, spread by application id."""
    rows = session.execute(select(Application.id, Batch.id).join(Batch, Application.batch_id == Batch.id)
                           .where(Application.id.in_(list(ids)))).all()
    codes: dict[int, list[str]] = {}
    for batch_id in {b for _, b in rows}:
        batch = session.get_one(Batch, batch_id)
        codes[batch_id] = sorted(s.code for s in batch.stations)
    return {app_id: codes[b][app_id % len(codes[b])] for app_id, b in rows if codes[b]}


def enqueue_personalization(rt: Runtime, jobs: JobQueue, ids: Sequence[int], *,
                            unless_since: dt.datetime | None = None) -> list[int]:
    """Queue batched applications on their station's queue, once (a compare-and-set mark, as validation)."""
    with rt.db.transaction() as s:
        # A paused batch's applications are left unmarked: resuming it queues them (issuance.batches).
        paused = set(s.scalars(paused_applications().where(Application.id.in_(sorted(set(ids))))))
        claimed = mark_enqueued(s, [i for i in ids if i not in paused], [A.BATCHED], unless_since)
        station = stations_of(s, claimed)
    by_station: dict[str, list[int]] = {}
    for app_id in claimed:
        if app_id in station:
            by_station.setdefault(station[app_id], []).append(app_id)
    for code, app_ids in sorted(by_station.items()):
        jobs.enqueue_ids(personalize_queue(code), PERSONALIZE_JOB, app_ids, 1)
    return claimed


def back_to_queue(session: Session, card_id: int, actor: Actor, step: str, sw: str | None,
                  reason: str, steps: list[dict[str, object]] | None = None) -> int | None:
    """Spoil a card still in progress and return its application to `batched`; the application id.

    None when the card is no longer in progress (another process finished or spoiled it).
    """
    card = session.get_one(Card, card_id)
    state = card.state
    if state not in IN_PROGRESS:
        return None
    values: dict[str, object] = {"failure_step": step, "failure_status_word": sw, "lease_until": None}
    if steps is not None:
        values["steps"] = steps
    if not move(session, Card, card_id, C.SPOILED, actor, expected=state, values=values,
                details={"step": step, "status_word": sw, "reason": reason[:200]}):
        return None
    move(session, Application, card.application_id, A.BATCHED, actor, expected=A.PERSONALIZING,
         values={"enqueued_at": None, "lease_until": None},
         details={"card_id": card_id, "reason": f"card spoiled at {step}: a new card is needed"})
    return card.application_id


def holder_certificate_serial(der: bytes) -> str | None:
    """The serial of the holder's e-signature certificate (so revoking the card can revoke it)."""
    return holder_serial(x509.load_der_x509_certificate(der).serial_number) if der else None


@dataclass
class _Claim:
    application_id: int
    card_id: int
    document_number: str
    name_latin: str
    name_arabic: str
    address: str


@dataclass
class DbJobSource:
    """The station loop's `JobSource` over the database and the station's queue."""

    rt: Runtime
    jobs: JobQueue
    station: str
    ds_label: Callable[[bytes], str]  # the keystore label of the DS certificate that signed a card
    wait: float = 0.0  # seconds claim() waits for a job to arrive (the reconciler runs meanwhile)
    operator: str = ""  # the signed-in operator the audit names (`station run --as`)
    _claims: dict[str, _Claim] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _reconciled: float = 0.0

    def __post_init__(self) -> None:
        with self.rt.db.session() as s:
            found = s.scalars(select(Station).where(Station.code == self.station, Station.active)).first()
            if found is None:
                raise LookupError(f"station: no active station {self.station!r}")
            self.station_id, self.site = found.id, found.site
        self.actor = Actor(self.operator or f"station:{self.station}", self.site)
        self.queue_name = personalize_queue(self.station)

    def stop(self) -> None:
        self._stop.set()

    def card_of(self, job_id: str) -> int | None:
        """The card row of a job this source claimed and has not reported yet."""
        claim = self._claims.get(job_id)
        return claim.card_id if claim is not None else None

    # --- claim ---------------------------------------------------------------------------
    def claim(self) -> Job | None:
        """The next application of this station's queue, claimed with a new card; None when none comes."""
        deadline = time.monotonic() + self.wait
        while not self._stop.is_set():
            job = self._next()
            if job is not None:
                return job
            if time.monotonic() >= deadline:
                return None
            self._stop.wait(POLL)
        return None

    def _next(self) -> Job | None:
        queue = self.jobs.queue(self.queue_name)
        if not queue.count:
            self._reconcile()
        while (raw := self.jobs.connection.lpop(queue.key)) is not None:
            job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            rq_job = RqJob.fetch(job_id, connection=self.jobs.connection, serializer=JSONSerializer)
            ids = [int(i) for i in rq_job.args[0]]
            claimed = next((job for job in map(self._claim, ids) if job is not None), None)
            self.jobs.done(self.queue_name, ids)
            rq_job.delete()
            if claimed is not None:
                return claimed
        return None

    def _reconcile(self) -> None:
        """An idle station reconciles its stage on the reconciler's schedule (and so works alone)."""
        if time.monotonic() - self._reconciled < self.rt.settings.reconcile_every and self._reconciled:
            return
        self._reconciled = time.monotonic()
        try:
            reconcile_personalization(self.rt, self.jobs)
        except Exception:
            log.exception("personalization reconcile pass failed")

    def _claim(self, application_id: int) -> Job | None:
        issued = utcnow().date()
        try:
            with self.rt.db.transaction() as s:
                # A paused batch, or a station taken off it, gets no card: resuming queues it again.
                if held_by_batch(s, application_id, self.station_id):
                    return None
                if not move(s, Application, application_id, A.PERSONALIZING, self.actor, expected=A.BATCHED,
                            details={"station": self.station}):
                    return None
                card = allocate_card(s, application_id, self.actor, self.station_id)
                number = document_number(card.id)
                app = s.get_one(Application, application_id)
                order = card_order(s, self.rt.vault, app, number, issued, self.rt.settings.issuing_state)
                s.execute(update(Card).where(Card.id == card.id).values(
                    document_number=number, issued_on=order.document.issue_date,
                    expires_on=order.document.expiry_date,
                    lease_until=utcnow() + dt.timedelta(seconds=self.rt.settings.lease_seconds)))
                person = app.applicant.person
                claim = _Claim(application_id, card.id, number, person.full_name_latin, person.full_name_ar,
                               person.address)
        except LdsInputError as exc:
            self._refuse(application_id, exc)
            return None
        job = Job(f"{app.number}#{card.attempt}", order)
        self._claims[job.job_id] = claim
        return job

    def _refuse(self, application_id: int, exc: LdsInputError) -> None:
        """The application's data cannot go on a chip: it stays batched, and a supervisor sees why."""
        with self.rt.db.transaction() as s:
            audit.record(s, audit.Entry(
                actor=self.actor.name, site=self.site, action="application.personalization_refused",
                entity_type="application", entity_id=str(application_id),
                details={"field": exc.field, "rule": exc.rule}))

    # --- reports -------------------------------------------------------------------------
    def encoding(self, job: Job, result: PersonalizationResult) -> None:
        """The intent record, before the first write: this chip is now this card (allocated -> encoding)."""
        claim = self._claims[job.job_id]
        chip = str(result.serial)
        try:
            with self.rt.db.transaction() as s:
                moved = move(s, Card, claim.card_id, C.ENCODING, self.actor, expected=C.ALLOCATED,
                             values={"chip_serial": chip, "atr": result.atr.hex().upper()},
                             details={"chip_serial": chip, "station": self.station})
        except IntegrityError as exc:
            raise CardRefused(Step.OPEN_CHANNEL, f"chip {chip} was already encoded once") from exc
        if not moved:
            raise CardRefused(Step.OPEN_CHANNEL, "the station's claim on this card lapsed")

    def succeeded(self, job: Job, result: PersonalizationResult) -> None:
        """Spool the PIN mailer, then record the card locked and the application personalized at once."""
        claim = self._claims.pop(job.job_id)
        credentials = result.credentials
        if credentials is None:
            raise RuntimeError("a personalized card without credentials")
        mailer = PinMailer(claim.document_number, claim.name_latin, claim.name_arabic, claim.address,
                           credentials.pin, credentials.puk)
        mailer_file = spool_pin_mailer(render_pin_mailer(mailer), self.spool, claim.document_number)
        summary = result.summary()
        values = {"steps": summary["steps"], "ds_key_label": self.ds_label(result.ds_certificate),
                  "can": result.can or None, "mrz": "\n".join(job.order.mrz.lines), "lease_until": None,
                  "holder_cert_serial": holder_certificate_serial(result.holder_certificate)}
        with self.rt.db.transaction() as s:
            details = {"apdus": result.apdus, "ds_certificate_fingerprint": result.ds_certificate_id}
            if not move(s, Card, claim.card_id, C.ENCODED, self.actor, expected=C.ENCODING, values=values,
                        details=details):
                # The station outlived its lease and the reconciler spoiled the card: it must be destroyed.
                mailer_file.unlink()
                log.error("card %s (%s) was spoiled while it was written: destroy it", claim.card_id,
                          claim.document_number)
                return
            move(s, Card, claim.card_id, C.VERIFIED, self.actor, expected=C.ENCODED)
            move(s, Card, claim.card_id, C.LOCKED, self.actor, expected=C.VERIFIED)
            move(s, Application, claim.application_id, A.PERSONALIZED, self.actor, expected=A.PERSONALIZING,
                 details={"card_id": claim.card_id, "document_number": claim.document_number})
        try:
            enqueue_printing(self.rt, self.jobs, [claim.card_id])
        except Exception:  # the database is the truth: the reconciler's print pass queues it later
            log.exception("could not queue card %s for printing", claim.card_id)

    def failed(self, job: Job, error: PersonalizationError, result: PersonalizationResult) -> None:
        """Spoil the card (step and status word recorded, audited) and queue the application again."""
        claim = self._claims.pop(job.job_id)
        sw = None if error.sw is None else f"{error.sw:04X}"
        steps = result.summary()["steps"]
        with self.rt.db.transaction() as s:
            app_id = back_to_queue(s, claim.card_id, self.actor, error.step.value, sw, error.reason,
                                   steps if isinstance(steps, list) else None)
        if app_id is not None:
            enqueue_personalization(self.rt, self.jobs, [app_id])

    @property
    def spool(self) -> Path:
        """The station's PIN mailer spool (0700; each mailer 0600)."""
        return self.rt.settings.data_dir / "stations" / self.station / "pin-mailers"


def reconcile_personalization(rt: Runtime, jobs: JobQueue) -> tuple[list[int], list[int]]:
    """Spoil cards whose station's lease lapsed, and queue every batched application that has no live job.

    Returns (cards spoiled, applications enqueued).
    """
    now = utcnow()
    actor = Actor("reconciler")
    with rt.db.session() as s:
        lapsed = list(s.scalars(select(Card.id).where(
            Card.state.in_(IN_PROGRESS), or_(Card.lease_until.is_(None), Card.lease_until < now))))
    spoiled, returned = [], []
    for card_id in lapsed:
        with rt.db.transaction() as s:
            app_id = back_to_queue(s, card_id, actor, "lease_expired", None,
                                   "the station stopped before finishing the card")
        if app_id is not None:
            spoiled.append(card_id)
            returned.append(app_id)
    with rt.db.session() as s:
        batched = list(s.scalars(select(Application.id).where(Application.state == A.BATCHED)))
        station = stations_of(s, batched)
    waiting: list[int] = []
    for code in sorted(set(station.values())):
        mine = [i for i in batched if station.get(i) == code]
        lost, stale = lost_and_stale(rt, jobs, personalize_queue(code), mine, now)
        waiting += [*lost, *stale]
    requeued = enqueue_personalization(rt, jobs, [*returned, *waiting], unless_since=now - requeue_grace(rt))
    return spoiled, requeued
