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
from issuance.models import (
    Applicant,
    Application,
    ApplicationKind,
    BiometricImage,
    BiometricKind,
    Card,
    utcnow,
)
from issuance.registry.client import Registry, RegistryError, RegistryUnavailable
from issuance.registry.record import CitizenRecord
from issuance.review import override_covers
from issuance.runtime import Runtime
from issuance.states import ISSUED_CARD_STATES, ApplicationState, CardState
from issuance.successors import renewal_window, replaceable_cards, revoke_reported_losses
from issuance.transitions import Actor, move_many
from workers.checks import Decision, Facts, Policy, decide, registry_error
from workers.face_checks import enabled as face_matching
from workers.face_checks import face_review, remember_faces

A = ApplicationState
IN_FLIGHT = frozenset(ApplicationState) - {A.DRAFT, A.REJECTED, A.DELIVERED}
HELD_CARD_STATES = frozenset(ISSUED_CARD_STATES) - {CardState.REVOKED, CardState.EXPIRED}


@dataclass
class StageResult:
    """What one run did: outcomes by state, and the ids left waiting for the registry."""

    outcomes: Counter[str] = field(default_factory=Counter)
    waiting: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def claim(session: Session, ids: Sequence[int], actor: Actor, lease: dt.timedelta,
          max_attempts: int) -> list[int]:
    """Take submitted ids into `validating`, and re-take validating ones whose lease ran out.

    Every claim counts an attempt; a re-take is audited, and an application re-taken more
    than `max_attempts` times goes to a supervisor instead of being tried again.
    """
    now = utcnow()
    fresh = move_many(session, Application, ids, A.VALIDATING, actor, expected=A.SUBMITTED,
                      values={i: {"lease_until": now + lease} for i in ids})
    lapsed = (Application.id.in_(list(ids)), Application.state == A.VALIDATING,
              or_(Application.lease_until.is_(None), Application.lease_until < now))
    retaken = dict(session.execute(
        update(Application).where(*lapsed, Application.validation_attempts < max_attempts)
        .values(lease_until=now + lease, validation_attempts=Application.validation_attempts + 1)
        .returning(Application.id, Application.validation_attempts)).all())
    _audit(session, actor, "application.validation_retaken",
           {i: {"attempt": n} for i, n in retaken.items()})
    exhausted = list(session.scalars(select(Application.id).where(*lapsed)))
    _record(session, {i: registry_error(max_attempts, "validation was interrupted each time")
                      for i in exhausted}, actor)
    session.execute(update(Application).where(Application.id.in_(fresh))
                    .values(validation_attempts=Application.validation_attempts + 1))
    return sorted({*fresh, *retaken})


def _audit(session: Session, actor: Actor, action: str, details: dict[int, dict[str, object]]) -> None:
    audit.record_many(session, (
        audit.Entry(actor=actor.name, site=actor.site, action=action, entity_type="application",
                    entity_id=str(i), details=d)
        for i, d in details.items()
    ))


def _passed(photo: BiometricImage | None) -> bool | None:
    return None if photo is None else photo.quality_passed


def _overridden(app: Application, photo: BiometricImage | None) -> bool:
    # The override counts only for the exact photo it accepted.
    return photo is not None and override_covers(app, photo.id, photo.digest)


def _replaceable(session: Session, app: Application, window: dt.timedelta) -> tuple[str, ...]:
    if app.kind == ApplicationKind.FIRST_ISSUE:
        return ()
    return replaceable_cards(session, app, dt.date.today(), window)


def _facts(session: Session, ids: Sequence[int], window: dt.timedelta) -> dict[int, Facts]:
    rows = session.execute(
        select(Application, Applicant).join(Applicant).where(Application.id.in_(ids))
    ).all()
    numbers = {ap.national_number for _, ap in rows}
    photos = {row.application_id: row for row in session.scalars(
        select(BiometricImage)
        .where(BiometricImage.application_id.in_(ids), BiometricImage.kind == BiometricKind.PHOTO)
    )}
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
            photo_passed=_passed(photos.get(app.id)),
            photo_overridden=_overridden(app, photos.get(app.id)),
            earlier_in_flight=tuple(n for oid, n in others[ap.national_number] if oid < app.id),
            own_active_cards=tuple(cards[ap.national_number]),
            own_replaceable_cards=_replaceable(session, app, window),
        )
        for app, ap in rows
    }


@dataclass
class Lookup:
    """What the registry said: records (None: no such citizen), numbers held back by an outage,
    and numbers whose own record failed while the registry was up."""

    records: dict[str, CitizenRecord | None] = field(default_factory=dict)
    outage: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)  # reference face photos (1:1 check)

    def __or__(self, other: Lookup) -> Lookup:
        return Lookup({**self.records, **other.records}, self.outage + other.outage,
                      {**self.failed, **other.failed}, {**self.photos, **other.photos})


def lookup_isolating(registry: Registry, numbers: Sequence[str], *, retry: bool = True) -> Lookup:
    """Look numbers up in bulk; when a batch fails, split it so one bad record holds back no other.

    A failure is an outage only if the registry also fails its health probe; otherwise the
    batch holds a bad record, found by bisection. Only the first, whole-batch call retries.
    """
    try:
        return Lookup(records=registry.lookup_many(numbers, retry=retry))
    except RegistryError as exc:
        error = exc
    if isinstance(error, RegistryUnavailable) and not registry.healthy():
        return Lookup(outage=list(numbers))
    if len(numbers) == 1:
        return Lookup(failed={numbers[0]: str(error)})
    half = len(numbers) // 2
    return (lookup_isolating(registry, numbers[:half], retry=False)
            | lookup_isolating(registry, numbers[half:], retry=False))


def fetch_references(registry: Registry, looked: Lookup) -> Lookup:
    """Add the registry's photo of each record that has one; a photo that fails holds its record back.

    The failure is told apart as in `lookup_isolating`: an outage when the registry is down,
    else a failure of that record, retried and in the end given to a supervisor.
    """
    out = Lookup(dict(looked.records), list(looked.outage), dict(looked.failed), dict(looked.photos))
    for nn, record in looked.records.items():
        if record is None or not record.has_photo:
            continue
        try:
            photo = registry.reference_photo(nn)
        except RegistryError as exc:
            del out.records[nn]
            if isinstance(exc, RegistryUnavailable) and not registry.healthy():
                out.outage.append(nn)
            else:
                out.failed[nn] = f"reference photo: {exc}"
            continue
        if photo is not None:
            out.photos[nn] = photo
    return out


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
        if outcome == A.APPROVED:
            revoke_reported_losses(session, moved, actor)
    return counts


def _postpone(session: Session, ids: list[int], actor: Actor, lease: dt.timedelta, reason: str, *,
              counted: bool) -> None:
    # The lease is the wait: once it lapses the reconciler enqueues the application again.
    # An outage never reached the record, so that attempt is given back (see `claim`).
    attempts = Application.validation_attempts - (0 if counted else 1)
    session.execute(update(Application).where(Application.id.in_(ids), Application.state == A.VALIDATING)
                    .values(lease_until=utcnow() + lease, validation_attempts=attempts))
    _audit(session, actor, "application.validation_postponed", {i: {"reason": reason} for i in ids})


def validate(rt: Runtime, ids: Sequence[int], actor: Actor | None = None) -> StageResult:
    """Validate the given applications; safe to run any number of times on the same ids."""
    actor = actor or Actor("validator", rt.settings.site)
    policy = Policy(rt.settings.min_age_years, rt.settings.name_match_threshold)
    limit = rt.settings.validation_max_attempts
    lease = dt.timedelta(seconds=rt.settings.lease_seconds)
    result = StageResult()
    with rt.db.transaction() as s:
        claimed = claim(s, ids, actor, lease, limit)
    result.skipped = sorted(set(ids) - set(claimed))
    if not claimed:
        return result
    with rt.db.session() as s:
        facts = _facts(s, claimed, renewal_window(rt.settings.extra))
    looked = lookup_isolating(rt.registry, sorted({f.national_number for f in facts.values()}))
    if face_matching(rt):
        looked = fetch_references(rt.registry, looked)
    today = dt.date.today()
    decisions = {i: decide(f, looked.records[f.national_number], policy, today)
                 for i, f in facts.items() if f.national_number in looked.records}
    outage = sorted(i for i, f in facts.items() if f.national_number in looked.outage)
    failed = {i: looked.failed[f.national_number] for i, f in facts.items()
              if f.national_number in looked.failed}
    # Face matching (1:1 FACE_MISMATCH, 1:N FACE_DUPLICATE), off unless `face_matching` is on.
    decisions, faces = face_review(rt, {i: facts[i].national_number for i in decisions}, decisions,
                                   looked.photos)
    with rt.db.transaction() as s:
        given_up = _give_up(s, failed, limit)
        result.outcomes = _record(s, {**decisions, **given_up}, actor)
        remember_faces(s, rt, decisions, faces)
        retry = sorted(set(failed) - set(given_up))
        _postpone(s, outage, actor, lease, "civil registry unavailable", counted=False)
        for i in retry:
            _postpone(s, [i], actor, lease, f"the registry failed on this record: {failed[i]}",
                      counted=True)
    result.waiting = sorted([*outage, *retry])
    return result


def _give_up(session: Session, failed: dict[int, str], limit: int) -> dict[int, Decision]:
    """Records that failed their last allowed attempt go to a supervisor as REGISTRY_ERROR."""
    attempts = dict(session.execute(select(Application.id, Application.validation_attempts)
                                    .where(Application.id.in_(list(failed)))).all())
    return {i: registry_error(attempts[i], error) for i, error in failed.items() if attempts[i] >= limit}
