"""Reprint requests: a card printed again only with a reason and a supervisor's approval (four eyes).

A request names the card and why; a supervisor who did not ask approves it; the print stage then
prints the card once under it. Every step is audited in the caller's transaction.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Application, Card, ReprintRequest, ReprintState, User, utcnow
from issuance.roles import Permission, allows, authorize
from issuance.sites import in_scope
from issuance.states import CardState
from issuance.transitions import NotFound

# A card can be printed again while it has not left the print room.
REPRINTABLE = frozenset({CardState.LOCKED, CardState.PRINTED})
# The actor name of requests the automatic quality check files.
QC_ACTOR = "print-qc"
MAX_REASON = 500
_CARD_NUMBER = re.compile(r"[A-Z0-9]{1,20}")
# A user name (as issuance/users.py allows them) or a worker's name.
_ACTOR = re.compile(r"[a-z][a-z0-9._-]{1,63}")


class ReprintError(ValueError):
    """A reprint request or approval that the rules refuse; the message says which rule."""


class FourEyesReprint(PermissionError):
    """The approving supervisor is the one who asked for the reprint."""


def check_reason(reason: str) -> str:
    """A reason as stored: trimmed, 1-500 characters, no control characters."""
    text = reason.strip()
    if not text:
        raise ReprintError("reason: a reprint must say why the card is printed again")
    if len(text) > MAX_REASON or any(unicodedata.category(c) == "Cc" for c in text):
        raise ReprintError(f"reason: at most {MAX_REASON} characters, no control characters")
    return text


def check_actor(name: str) -> str:
    if not _ACTOR.fullmatch(name):
        raise ReprintError("by: a user name (2-64 lower-case letters, digits, '.', '_' or '-')")
    return name


def card_by_number(session: Session, document_number: str) -> Card:
    """The live card with this document number (NotFound otherwise)."""
    if not _CARD_NUMBER.fullmatch(document_number):
        raise ReprintError(f"card number {document_number[:30]!r}: 1-20 capital letters and digits")
    card = session.scalars(select(Card).where(Card.document_number == document_number,
                                              Card.state != CardState.SPOILED)).first()
    if card is None:
        raise NotFound(f"card {document_number} does not exist")
    return card


def _record(session: Session, request: ReprintRequest, actor: str, site: str, action: str) -> None:
    audit.record(session, audit.Entry(
        actor=actor, site=site, action=f"reprint.{action}", entity_type="card",
        entity_id=str(request.card_id),
        details={"request": request.id, "reason": request.reason, "requested_by": request.requested_by,
                 "approved_by": request.approved_by or ""}))


def open_request(session: Session, card_id: int) -> ReprintRequest | None:
    """The card's request that is not used yet (requested or approved), if any."""
    return session.scalars(select(ReprintRequest).where(
        ReprintRequest.card_id == card_id, ReprintRequest.state != ReprintState.USED)
        .order_by(ReprintRequest.id)).first()


def request_reprint(session: Session, card: Card, reason: str, requested_by: str,
                    site: str = "") -> ReprintRequest:
    """File a request to print `card` again; one open request per card."""
    reason = check_reason(reason)
    check_actor(requested_by)
    if card.state not in REPRINTABLE:
        raise ReprintError(f"card {card.document_number}: state {card.state} cannot be reprinted "
                           f"(only {', '.join(sorted(REPRINTABLE))})")
    if open_request(session, card.id) is not None:
        raise ReprintError(f"card {card.document_number}: a reprint request is already open")
    request = ReprintRequest(card_id=card.id, reason=reason, state=ReprintState.REQUESTED,
                             requested_by=requested_by)
    session.add(request)
    session.flush()
    _record(session, request, requested_by, site, "requested")
    return request


def request_by_user(session: Session, card: Card, reason: str, user: User) -> ReprintRequest:
    """A reprint asked for by an operator or supervisor of the card's site."""
    # Operators (who print) and supervisors (who run the card's life cycle) may ask.
    authorize(user, Permission.PRINT if allows(user.role, Permission.PRINT)
              else Permission.MANAGE_CARD_LIFECYCLE)
    _in_scope(session, card, user)
    return request_reprint(session, card, reason, user.username, user.site)


def _in_scope(session: Session, card: Card, user: User) -> None:
    site = session.scalar(select(Application.site).where(Application.id == card.application_id))
    if site is None or not in_scope(user, site):
        raise NotFound(f"card {card.document_number} does not exist")


def approve_reprint(session: Session, card: Card, supervisor: User) -> ReprintRequest:
    """A supervisor other than the requester approves the card's open request."""
    authorize(supervisor, Permission.MANAGE_CARD_LIFECYCLE)
    _in_scope(session, card, supervisor)
    request = open_request(session, card.id)
    if request is None or request.state != ReprintState.REQUESTED:
        raise ReprintError(f"card {card.document_number}: no reprint request waits for approval")
    if request.requested_by == supervisor.username:
        raise FourEyesReprint(f"card {card.document_number}: {supervisor.username} asked for this reprint "
                              "and cannot also approve it; another supervisor must")
    request.state, request.approved_by, request.approved_at = (ReprintState.APPROVED, supervisor.username,
                                                               utcnow())
    session.flush()
    _record(session, request, supervisor.username, supervisor.site, "approved")
    return request


def approved_request(session: Session, card_id: int) -> ReprintRequest | None:
    """The card's approved request not yet used by a completed print."""
    request = open_request(session, card_id)
    return request if request is not None and request.state == ReprintState.APPROVED else None


def mark_used(session: Session, request: ReprintRequest, actor: str, attempt: int) -> None:
    """The request's print completed: it authorizes nothing more."""
    request.state = ReprintState.USED
    session.flush()
    audit.record(session, audit.Entry(actor=actor, action="reprint.used", entity_type="card",
                                      entity_id=str(request.card_id),
                                      details={"request": request.id, "attempt": attempt}))
