"""The card's life after printing (DESIGN §3): dispatch, activation, suspension, revocation, expiry.

Every function works inside the caller's transaction and changes a state only through
`issuance.transitions` (compare-and-set, audited). The hand-over to the holder is in
`issuance.delivery`; renewals and replacements in `issuance.successors`.

A supervisor sees a card when its application belongs to their site, or when it waits at (or was
handed over at) their site as its collection office; admins see every card.

Revoking a card puts the holder's e-signature certificate on the issuing CA's next CRL with the
RFC 5280 §5.3.1 reason relying parties need (`CRL_REASONS`):
- lost, stolen -> keyCompromise: the private key is out of the holder's hands (a finder may learn
  the PIN), so signatures from the moment of the report are suspect;
- damaged -> cessationOfOperation: the key died with the chip, nothing was compromised;
- superseded -> superseded: a renewal or replacement card was handed over, the old key is retired;
- withdrawn -> privilegeWithdrawn: the card was obtained by fraud or the right to it ended.
Suspension leaves the CRL alone: certificateHold cannot be undone cleanly by CRL consumers and
RFC 5280 profiles such as the CA/B Forum's forbid it; a suspended card is refused by the online
status check (the card's state), and a suspension that turns into a loss becomes a revocation.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from issuance.models import (
    Applicant,
    Application,
    AuditEvent,
    Batch,
    Card,
    ReprintRequest,
    ReprintState,
    Revocation,
    RevocationReason,
    Site,
    User,
    utcnow,
)
from issuance.pki.profiles import Role as PkiRole
from issuance.pki.revocation import normalise_serial, revoke
from issuance.roles import Permission, authorize
from issuance.sites import in_scope, sees_all_sites
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, NotFound, move, move_many

A, C = ApplicationState, CardState
MAX_REASON = 200
MAX_DISPATCH = 5000
SEARCH_LIMIT = 50
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9]{1,20}$")
_NUMBER = re.compile(r"^[A-Z0-9-]{1,40}$")
_SITE = re.compile(r"^[A-Z0-9-]{1,32}$")
_BATCH = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
# Cards a supervisor follows: from the print room on (spoiled attempts are the stations' business).
FOLLOWED = (C.LOCKED, C.PRINTED, C.ISSUED, C.ACTIVE, C.SUSPENDED, C.REVOKED, C.EXPIRED)
REVOCABLE = frozenset({C.ISSUED, C.ACTIVE, C.SUSPENDED})
DISPATCHABLE = frozenset({A.PRINTED, A.QUALITY_CHECKED})


class RevocationCause(StrEnum):
    """Why a card was revoked, in the department's words."""

    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


R = RevocationReason
CRL_REASONS: dict[RevocationCause, RevocationReason] = {
    RevocationCause.LOST: R.KEY_COMPROMISE, RevocationCause.STOLEN: R.KEY_COMPROMISE,
    RevocationCause.DAMAGED: R.CESSATION_OF_OPERATION, RevocationCause.SUPERSEDED: R.SUPERSEDED,
    RevocationCause.WITHDRAWN: R.PRIVILEGE_WITHDRAWN,
}


class LifecycleError(ValueError):
    """A request the rules refuse: names the field and the rule it broke."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.rule = field, rule


class WrongState(LifecycleError):
    """The card (or its application) is not in a state the move starts from."""

    def __init__(self, message: str, field: str = "card") -> None:
        super().__init__(field, "state", message)


class SamePerson(PermissionError):
    """Four eyes: the second step of a control by the person who did the first."""


def check_reason(text: str, field: str = "reason") -> str:
    """A reason as stored: trimmed, 1-200 characters, no control characters."""
    value = text.strip()
    if not value:
        raise LifecycleError(field, "required", "say why")
    if len(value) > MAX_REASON or any(unicodedata.category(c) == "Cc" for c in value):
        raise LifecycleError(field, "text", f"at most {MAX_REASON} characters, no control characters")
    return value


def check_document_number(text: str, field: str = "document_number") -> str:
    """A card's document number: 1-20 capital letters and digits (spaces ignored)."""
    value = text.strip().upper().replace(" ", "")
    if not _DOCUMENT_NUMBER.match(value):
        raise LifecycleError(field, "document_number", "1-20 capital letters and digits")
    return value


def card_in_scope(user: User, card: Card) -> bool:
    """True when the user's site issued the card or is its collection office."""
    return in_scope(user, card.application.site) or bool(
        card.collection_office and in_scope(user, card.collection_office))


def find_card(session: Session, card_id: int, user: User) -> Card:
    """A followed card the supervisor may see; NotFound otherwise (another site's is missing too)."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    card = session.get(Card, card_id)
    if card is None or card.state not in FOLLOWED or not card_in_scope(user, card):
        raise NotFound(f"card {card_id} does not exist")
    return card


def card_by_document(session: Session, number: str, user: User) -> Card:
    """The followed card with this document number, in the user's scope."""
    number = check_document_number(number)
    card_id = session.scalar(select(Card.id).where(Card.document_number == number,
                                                   Card.state.in_(FOLLOWED)))
    if card_id is None:
        raise NotFound(f"card {number} does not exist")
    return find_card(session, card_id, user)


def _scoped_cards(user: User) -> Select[Card]:
    stmt = select(Card).join(Application, Card.application_id == Application.id).join(Applicant)
    stmt = stmt.where(Card.state.in_(FOLLOWED))
    if sees_all_sites(user):
        return stmt
    return stmt.where(or_(Application.site == user.site, Card.collection_office == user.site))


def search_cards(session: Session, user: User, term: str) -> list[Card]:
    """Cards by document number, national number or application number; newest first."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    value = term.strip().upper().replace(" ", "")
    stmt = _scoped_cards(user).order_by(Card.id.desc()).limit(SEARCH_LIMIT)
    if value and not _NUMBER.match(value):
        return []  # no document, national or application number looks like that
    if value:
        stmt = stmt.where(or_(Card.document_number == value, Applicant.national_number == value,
                              Application.number == value))
    return list(session.scalars(stmt))


def history(session: Session, card: Card) -> list[AuditEvent]:
    """The audit entries of the card, its application and its holder certificate, oldest first."""
    about = [and_(AuditEvent.entity_type == "card", AuditEvent.entity_id == str(card.id)),
             and_(AuditEvent.entity_type == "application", AuditEvent.entity_id == str(card.application_id))]
    if card.holder_cert_serial:
        about.append(and_(AuditEvent.entity_type == "certificate",
                          AuditEvent.entity_id == card.holder_cert_serial))
    return list(session.scalars(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.seq)))


def next_moves(card: Card) -> list[str]:
    """What may happen to the card next, as the screens name the actions."""
    if card.state == C.PRINTED:
        state = card.application.state
        return ["dispatch"] if state in DISPATCHABLE else ["hand_over"] if state == A.DISPATCHED else []
    return {C.ISSUED: ["activate", "revoke"], C.ACTIVE: ["suspend", "revoke"],
            C.SUSPENDED: ["resume", "revoke"]}.get(card.state, [])


def _actor(user: User) -> Actor:
    return Actor(user.username, user.site)


def _office(session: Session, code: str) -> str:
    value = code.strip().upper()
    if not _SITE.match(value) or session.get(Site, value) is None:
        shown = value[:32] if _SITE.match(value[:32]) else "(that)"
        raise LifecycleError("office", "site", f"{shown or '(empty)'} is not a registered site code")
    return value


def _cards(session: Session, ids: list[int], user: User) -> list[Card]:
    """Many cards at once (one query), each followed and in the user's scope, or NotFound."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    found = {c.id: c for c in session.scalars(
        select(Card).options(joinedload(Card.application)).where(Card.id.in_(ids)))}
    for card_id in ids:
        card = found.get(card_id)
        if card is None or card.state not in FOLLOWED or not card_in_scope(user, card):
            raise NotFound(f"card {card_id} does not exist")
    return [found[i] for i in ids]


def _not_ready(card: Card, reprinting: set[int]) -> str:
    """Why a card cannot be dispatched ("" when it can)."""
    if card.state != C.PRINTED or card.application.state not in DISPATCHABLE:
        return f"{card.document_number} ({card.state}, application {card.application.state})"
    if card.id in reprinting:
        return f"{card.document_number} (a reprint is pending)"
    return ""


def dispatch(session: Session, card_ids: Sequence[int], office: str, user: User) -> list[int]:
    """Send printed cards to a collection office: all of them, or none (one transaction).

    A card whose application is `printed` passes the dispatcher's visual quality check first,
    recorded as such; one held for a reprint is not ready.
    """
    ids = list(dict.fromkeys(card_ids))
    if not ids or len(ids) > MAX_DISPATCH:
        raise LifecycleError("cards", "count", f"name 1 to {MAX_DISPATCH} cards")
    cards = _cards(session, ids, user)
    office = _office(session, office)
    reprinting = set(session.scalars(select(ReprintRequest.card_id).where(
        ReprintRequest.card_id.in_(ids), ReprintRequest.state != ReprintState.USED)))
    waiting = [reason for card in cards if (reason := _not_ready(card, reprinting))]
    if waiting:
        raise WrongState("not ready for dispatch: " + ", ".join(waiting[:20]), "cards")
    actor = _actor(user)
    printed = [c.application_id for c in cards if c.application.state == A.PRINTED]
    move_many(session, Application, printed, A.QUALITY_CHECKED, actor, expected=A.PRINTED,
              details={i: {"check": "visual", "by": user.username} for i in printed})
    apps = {c.application_id: c for c in cards}
    moved = move_many(session, Application, list(apps), A.DISPATCHED, actor, expected=A.QUALITY_CHECKED,
                      details={i: {"office": office, "card": c.document_number} for i, c in apps.items()})
    if len(moved) != len(apps):
        raise WrongState("another supervisor moved some of these cards meanwhile; reload", "cards")
    session.execute(update(Card).where(Card.id.in_(ids)).values(collection_office=office,
                                                                 dispatched_at=utcnow()))
    session.expire_all()
    return ids


def batch_cards(session: Session, number: str, user: User) -> list[int]:
    """The printed cards of a batch that wait for dispatch."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    value = number.strip()
    batch = session.scalar(select(Batch).where(Batch.number == value)) if _BATCH.match(value) else None
    if batch is None or not in_scope(user, batch.site):
        raise NotFound(f"batch {value if _BATCH.match(value) else '(that)'} does not exist")
    return list(session.scalars(
        select(Card.id).join(Application, Card.application_id == Application.id)
        .where(Application.batch_id == batch.id, Card.state == C.PRINTED,
               Application.state.in_(DISPATCHABLE)).order_by(Card.id)))


def _step(session: Session, card: Card, target: CardState, user: User, *, values: dict[str, object],
          details: dict[str, object]) -> Card:
    """One card move from its current state, refused with the card's number when not allowed."""
    allowed = {C.ACTIVE: {C.ISSUED, C.SUSPENDED}, C.SUSPENDED: {C.ACTIVE}}[target]
    if card.state not in allowed:
        raise WrongState(f"card {card.document_number} is {card.state}; {target} needs "
                         + " or ".join(sorted(allowed)))
    if not move(session, Card, card.id, target, _actor(user), expected=card.state, values=values,
                details=details):
        raise WrongState(f"card {card.document_number} changed meanwhile; reload")
    session.refresh(card)
    return card


def activate(session: Session, card_id: int, user: User) -> Card:
    """The holder's card goes live (issued -> active)."""
    card = find_card(session, card_id, user)
    if card.state != C.ISSUED:
        raise WrongState(f"card {card.document_number} is {card.state}; only an issued card is activated")
    return _step(session, card, C.ACTIVE, user, values={"activated_at": utcnow()}, details={})


def suspend(session: Session, card_id: int, user: User, reason: str) -> Card:
    """Block an active card for a while (active -> suspended), saying why."""
    text = check_reason(reason)
    card = find_card(session, card_id, user)
    return _step(session, card, C.SUSPENDED, user, values={"status_reason": text},
                 details={"reason": text})


def suspended_by(session: Session, card_id: int) -> str | None:
    """Who suspended the card last (from the audit log)."""
    return session.scalar(select(AuditEvent.actor).where(
        AuditEvent.entity_type == "card", AuditEvent.entity_id == str(card_id),
        AuditEvent.action == f"card.{C.SUSPENDED}").order_by(AuditEvent.seq.desc()).limit(1))


def resume(session: Session, card_id: int, user: User, reason: str) -> Card:
    """Lift a suspension (suspended -> active); four eyes: not by the supervisor who suspended."""
    text = check_reason(reason)
    card = find_card(session, card_id, user)
    if card.state != C.SUSPENDED:
        raise WrongState(f"card {card.document_number} is {card.state}; only a suspended card resumes")
    if suspended_by(session, card.id) == user.username:
        raise SamePerson(f"card {card.document_number}: {user.username} suspended it and cannot also "
                         "lift the suspension; another supervisor must")
    return _step(session, card, C.ACTIVE, user, values={"status_reason": None}, details={"reason": text})


def revoke_card(session: Session, card_id: int, user: User, cause: RevocationCause, note: str = "") -> Card:
    """Revoke a card for good; its holder certificate goes on the issuing CA's CRL."""
    text = check_reason(note, "note") if note.strip() else ""
    return revoke_found(session, find_card(session, card_id, user), _actor(user), cause, text)


def revoke_found(session: Session, card: Card, actor: Actor, cause: RevocationCause, note: str = "",
                 **details: object) -> Card:
    """Revoke a card already found and checked (also used when a successor supersedes it)."""
    if card.state not in REVOCABLE:
        raise WrongState(f"card {card.document_number} is {card.state}; only an issued, active or "
                         "suspended card can be revoked")
    reason = CRL_REASONS[cause]
    status = f"{cause}: {note}" if note else str(cause)
    facts = {"cause": str(cause), "crl_reason": reason.value, "note": note,
             "certificate_serial": card.holder_cert_serial or "", **details}
    if not move(session, Card, card.id, C.REVOKED, actor, expected=card.state,
                values={"revoked_at": utcnow(), "status_reason": status[:MAX_REASON]}, details=facts):
        raise WrongState(f"card {card.document_number} changed meanwhile; reload")
    if card.holder_cert_serial and not _listed(session, card.holder_cert_serial):
        revoke(session, PkiRole.ISSUING_CA, card.holder_cert_serial, reason, actor.name, actor.site)
    session.refresh(card)
    return card


def _listed(session: Session, serial: str) -> bool:
    """True when the certificate was revoked already (say, by `issuance pki revoke`)."""
    return session.scalar(select(Revocation.id).where(Revocation.issuer == PkiRole.ISSUING_CA.value,
                                                      Revocation.serial == serial)) is not None


def holder_serial(serial_number: int) -> str:
    """A certificate serial as the card row and the revocation table keep it (upper-case hex)."""
    return normalise_serial(format(serial_number, "X"))


def expire_cards(session: Session, today: dt.date, actor: Actor) -> list[int]:
    """Active and suspended cards whose last valid day is before `today` become expired."""
    expired: list[int] = []
    for state in (C.ACTIVE, C.SUSPENDED):
        due = list(session.scalars(select(Card.id).where(Card.state == state, Card.expires_on < today)))
        expired += move_many(session, Card, due, C.EXPIRED, actor, expected=state,
                             values={i: {"status_reason": "expired"} for i in due},
                             details={i: {"today": today.isoformat()} for i in due})
    return sorted(expired)


def due_for_renewal(session: Session, user: User, today: dt.date, within_days: int) -> list[Card]:
    """Cards in use whose validity ends within `within_days` (the holders to invite for renewal)."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    limit = today + dt.timedelta(days=within_days)
    return list(session.scalars(_scoped_cards(user).where(
        Card.state.in_((C.ISSUED, C.ACTIVE, C.SUSPENDED)), Card.expires_on <= limit)
        .order_by(Card.expires_on, Card.id)))
