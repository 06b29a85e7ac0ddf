"""The reconciler: the database says which jobs should exist; re-enqueue the ones Redis lost (DESIGN §7).

It runs on a schedule of its own (inside every worker, between dequeues that time out after the
interval, in `issuance reconcile --every N`, and in the serving process on embedded defaults), so
recovery never waits for traffic or a person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from issuance import reprints
from issuance.lifecycle import expire_cards
from issuance.models import Application, Card, PrintAttempt, ReprintRequest, ReprintState, utcnow
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor
from workers import print_stage
from workers.jobs import enqueue_validation
from workers.liveness import lost_and_stale, requeue_grace, without_live_job
from workers.personalization import reconcile_personalization
from workers.print_jobs import enqueue_printing, print_queue_names
from workers.queues import VALIDATE, JobQueue

EXPIRY_ACTOR = Actor("card-expiry")


@dataclass(frozen=True)
class Report:
    """What one reconcile pass found, and which of those it enqueued (a racing pass may win some)."""

    lost: list[int]
    stale: list[int]
    expired: list[int]
    requeued: list[int]
    # Cards whose print job was lost, or whose waiting or failed print is due another look.
    printing: list[int] = field(default_factory=list)
    # Cards whose station stopped mid-card (lease lapsed): spoiled, their applications queued again.
    spoiled: list[int] = field(default_factory=list)
    # Cards in use past their expiry date, now expired.
    cards_expired: list[int] = field(default_factory=list)


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
    lost, stale = lost_and_stale(rt, jobs, VALIDATE, submitted, now)
    requeued = enqueue_validation(rt, jobs, [*lost, *stale, *expired],
                                  unless_since=now - requeue_grace(rt))
    return Report(sorted(lost), sorted(stale), sorted(expired), requeued)


def _print_candidates(rt: Runtime, now: dt.datetime) -> list[int]:
    """Locked cards of personalized (or printing) applications and cards with an approved reprint,
    less those whose print waits on its backoff or for a person."""
    with rt.db.session() as s:
        first = s.scalars(select(Card.id).join(Application, Card.application_id == Application.id).where(
            Card.state == CardState.LOCKED, Application.state.in_(print_stage.FIRST_PRINT)))
        again = s.scalars(select(ReprintRequest.card_id).where(ReprintRequest.state == ReprintState.APPROVED))
        ids = sorted({*first, *again})
        attempts = s.scalars(select(PrintAttempt).where(PrintAttempt.card_id.in_(ids))
                             .order_by(PrintAttempt.card_id, PrintAttempt.number)).all()
        by_card: dict[int, list[PrintAttempt]] = {}
        for attempt in attempts:
            by_card.setdefault(attempt.card_id, []).append(attempt)
        due = []
        for card_id in ids:
            mine = by_card.get(card_id, [])
            request = reprints.approved_request(s, card_id)
            if print_stage.held_reason(mine, request) or (mine and not print_stage.due(mine[-1], now)):
                continue
            due.append(card_id)
    return due


def reconcile_printing(rt: Runtime, jobs: JobQueue, now: dt.datetime | None = None) -> list[int]:
    """Enqueue every card due a print (or a look at its waiting job) that has no live job."""
    now = now or utcnow()
    missing = without_live_job(rt, jobs, print_queue_names(rt), _print_candidates(rt, now), now)
    return enqueue_printing(rt, jobs, missing, unless_since=now - requeue_grace(rt))


def expire_pass(rt: Runtime, today: dt.date | None = None) -> list[int]:
    """Expire the cards in use past their expiry date (one indexed query when none is due)."""
    with rt.db.transaction() as s:
        return expire_cards(s, today or dt.date.today(), EXPIRY_ACTOR)


def reconcile(rt: Runtime, jobs: JobQueue) -> Report:
    """One pass over every stage that has jobs (validation, personalization, printing), and expiry.

    Expiry rides on the reconciler's own schedule, so the daily job needs no timer of its own and
    catches up at once after a stop; it changes something only on the first pass of a day.
    """
    found = reconcile_validation(rt, jobs)
    spoiled, requeued = reconcile_personalization(rt, jobs)
    return dataclasses.replace(found, requeued=[*found.requeued, *requeued], spoiled=spoiled,
                               printing=reconcile_printing(rt, jobs), cards_expired=expire_pass(rt))
