"""The validation stage: claim applications, ask the registry in bulk, decide, record (DESIGN §7).

Each run takes many ids (a stage must move thousands a second) in two short transactions:
the claim (`submitted -> validating` with a lease) and the outcome (`validating -> approved |
exception | rejected`). Both are compare-and-set, so a job that runs twice changes nothing the
second time. The registry call sits between them, outside any transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Applicant, Application, BiometricImage, BiometricKind, Card, utcnow
from issuance.registry.client import Registry, RegistryUnavailable
from issuance.registry.record import CitizenRecord
from issuance.runtime import Runtime
from issuance.states import ISSUED_CARD_STATES, ApplicationState, CardState
from issuance.transitions import Actor, move_many
from workers.checks import Decision, Facts, Policy, decide
from workers.face_checks import face_review, remember_faces

A = ApplicationState
IN_FLIGHT = frozenset(ApplicationState) - {A.DRAFT, A.REJECTED, A.DELIVERED}
HELD_CARD_STATES = frozenset(ISSUED_CARD_STATES) - {CardState.REVOKED, CardState.EXPIRED}
RETRY_AFTER = dt.timedelta(seconds=60)


@dataclass
class StageResult:
    """What one run did: outcomes by state, and the ids left waiting for the registry."""

    outcomes: Counter[str] = field(default_factory=Counter)
    waiting: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def claim(session: Session, ids: Sequence[int], actor: Actor, lease: dt.timedelta) -> list[int]:
    """Take submitted ids into `validating`, and re-take validating ones whose lease ran out."""
    now = utcnow()
    fresh = move_many(session, Application, ids, A.VALIDATING, actor, expected=A.SUBMITTED,
                      values={i: {"lease_until": now + lease} for i in ids})
    stale = session.execute(
        update(Application)
        .where(Application.id.in_(list(ids)), Application.state == A.VALIDATING,
               or_(Application.lease_until.is_(None), Application.lease_until < now))
        .values(lease_until=now + lease)
        .returning(Application.id)
    ).scalars()
    return sorted({*fresh, *stale})


def _facts(session: Session, ids: Sequence[int]) -> dict[int, Facts]:
    rows = session.execute(
        select(Application, Applicant).join(Applicant).where(Application.id.in_(ids))
    ).all()
    numbers = {ap.national_number for _, ap in rows}
    photos = dict(session.execute(
        select(BiometricImage.application_id, BiometricImage.quality_passed)
        .where(BiometricImage.application_id.in_(ids), BiometricImage.kind == BiometricKind.PHOTO)
    ).all())
    others: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for other_id, number, nn in session.execute(
        select(Application.id, Application.number, Applicant.national_number).join(Applicant)
        .where(Applicant.national_number.in_(numbers), Application.state.in_(IN_FLIGHT))
    ):
        others[nn].append((other_id, number or str(other_id)))
    cards: defaultdict[str, list[str]] = defaultdict(list)
    for nn, doc in session.execute(
        select(Applicant.national_number, Card.document_number)
        .join(Card, Card.application_id == Applicant.application_id)
        .where(Applicant.national_number.in_(numbers), Card.state.in_(HELD_CARD_STATES))
    ):
        cards[nn].append(doc or "?")
    return {
        app.id: Facts(
            application_id=app.id, national_number=ap.national_number,
            names_ar=(ap.first_name_ar, ap.father_name_ar, ap.grandfather_name_ar, ap.family_name_ar),
            sex=str(ap.sex), birth_date=ap.birth_date, kind=app.kind,
            replaces_document_number=app.replaces_document_number,
            photo_passed=photos.get(app.id), photo_overridden=app.photo_override_by is not None,
            earlier_in_flight=tuple(n for oid, n in others[ap.national_number] if oid < app.id),
            own_active_cards=tuple(cards[ap.national_number]),
        )
        for app, ap in rows
    }


def lookup_isolating(
    registry: Registry, numbers: Sequence[str], *, retry: bool = True
) -> tuple[dict[str, CitizenRecord | None], list[str]]:
    """Look numbers up in bulk; when a batch fails, split it so one bad record holds back no other.

    Only the first, whole-batch call retries; the halves get one attempt each, so isolating
    one failing record costs a handful of single timeouts, not a retry cycle per level.
    """
    try:
        return registry.lookup_many(numbers, retry=retry), []
    except RegistryUnavailable:
        if len(numbers) == 1:
            return {}, list(numbers)
    half = len(numbers) // 2
    found, waiting = lookup_isolating(registry, numbers[:half], retry=False)
    if not found:  # the whole first half failed: an outage, not one bad record
        return {}, list(numbers)
    more, still = lookup_isolating(registry, numbers[half:], retry=False)
    return {**found, **more}, waiting + still


def _record(session: Session, decisions: dict[int, Decision], actor: Actor) -> Counter[str]:
    by_outcome: defaultdict[ApplicationState, list[int]] = defaultdict(list)
    for app_id, decision in decisions.items():
        by_outcome[decision.outcome].append(app_id)
    counts: Counter[str] = Counter()
    for outcome, ids in by_outcome.items():
        values = {i: {"outcome_reasons": [r.as_dict() for r in decisions[i].reasons],
                      "lease_until": None} for i in ids}
        details = {i: {"reasons": [r.code for r in decisions[i].reasons]} for i in ids}
        moved = move_many(session, Application, ids, outcome, actor, expected=A.VALIDATING,
                          values=values, details=details)
        counts[str(outcome)] += len(moved)
    return counts


def _postpone(session: Session, ids: list[int], actor: Actor, reason: str) -> None:
    session.execute(update(Application).where(Application.id.in_(ids), Application.state == A.VALIDATING)
                    .values(lease_until=utcnow() + RETRY_AFTER))
    audit.record_many(session, (
        audit.Entry(actor=actor.name, site=actor.site, action="application.validation_postponed",
                    entity_type="application", entity_id=str(i), details={"reason": reason})
        for i in ids
    ))


def validate(rt: Runtime, ids: Sequence[int], actor: Actor | None = None) -> StageResult:
    """Validate the given applications; safe to run any number of times on the same ids."""
    actor = actor or Actor("validator", rt.settings.site)
    policy = Policy(rt.settings.min_age_years, rt.settings.name_match_threshold)
    result = StageResult()
    with rt.db.transaction() as s:
        claimed = claim(s, ids, actor, dt.timedelta(seconds=rt.settings.lease_seconds))
    result.skipped = sorted(set(ids) - set(claimed))
    if not claimed:
        return result
    with rt.db.session() as s:
        facts = _facts(s, claimed)
    numbers = sorted({f.national_number for f in facts.values()})
    records, waiting_numbers = lookup_isolating(rt.registry, numbers)
    today = dt.date.today()
    waiting = set(waiting_numbers)
    decisions = {i: decide(f, records.get(f.national_number), policy, today)
                 for i, f in facts.items() if f.national_number not in waiting}
    result.waiting = sorted(i for i, f in facts.items() if f.national_number in waiting)
    # --- face matching hook (issue 10): 1:N FACE_DUPLICATE; off unless `face_matching` is set ---
    decisions, faces = face_review(rt, {i: f.national_number for i, f in facts.items()}, decisions)
    with rt.db.transaction() as s:
        result.outcomes = _record(s, decisions, actor)
        remember_faces(s, rt, decisions, faces)  # face matching hook (issue 10)
        if result.waiting:
            _postpone(s, result.waiting, actor, "civil registry unavailable")
    return result
