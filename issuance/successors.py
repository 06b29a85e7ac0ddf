"""Renewals and replacements: new applications linked to the card they replace (DESIGN §3).

A renewal or replacement is enrolled at the counter like a first card, naming the old card's
document number (`Application.replaces_document_number`) and, for a replacement, why (lost,
stolen, damaged). This module says:
- which of a citizen's cards an application may name (validation asks): a renewal, a card in use
  that expires within the renewal window, or an expired one; a replacement, a card in use, or one
  already revoked as lost or stolen (the holder reported the loss first);
- a replacement for loss or theft revokes the old card as soon as the application is approved (by
  validation or by a supervisor): a stolen card stops working before the new one is even made;
- handing over the new card retires the old one if it is still in use (superseded; a damaged card
  is superseded too, since it is surrendered and destroyed at the counter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.lifecycle import REVOCABLE, RevocationCause, revoke_found
from issuance.models import Applicant, Application, ApplicationKind, Card, ReplacementReason
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor

DEFAULT_RENEWAL_WINDOW_DAYS = 180
LOSS = frozenset({ReplacementReason.LOST, ReplacementReason.STOLEN})
C = CardState


def renewal_window(extra: dict[str, object]) -> dt.timedelta:
    """How long before expiry a card may be renewed (`renewal_window_days`, default 180)."""
    raw = extra.get("renewal_window_days", DEFAULT_RENEWAL_WINDOW_DAYS)
    days = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else DEFAULT_RENEWAL_WINDOW_DAYS
    return dt.timedelta(days=days)


def may_replace(kind: ApplicationKind, reason: ReplacementReason | None, card: Card, today: dt.date,
                window: dt.timedelta) -> bool:
    """True when an application of this kind (and reason) may name this card as the one it replaces."""
    if kind == ApplicationKind.RENEWAL:
        near = card.expires_on is not None and card.expires_on <= today + window
        return card.state == C.EXPIRED or (card.state in REVOCABLE and near)
    if kind == ApplicationKind.REPLACEMENT:
        lost = card.state == C.REVOKED and (card.status_reason or "").split(":")[0] in {r.value for r in LOSS}
        return card.state in REVOCABLE or (reason in LOSS and lost)
    return False


def replaceable_cards(session: Session, application: Application, today: dt.date,
                      window: dt.timedelta) -> tuple[str, ...]:
    """Document numbers of the citizen's own cards this application may name."""
    cards = session.scalars(
        select(Card).join(Applicant, Card.application_id == Applicant.application_id)
        .where(Applicant.national_number == application.applicant.national_number,
               Card.state.in_((*REVOCABLE, C.REVOKED, C.EXPIRED)), Card.document_number.is_not(None)))
    return tuple(sorted(str(c.document_number) for c in cards
                        if may_replace(application.kind, application.replacement_reason, c, today, window)))


def predecessor(session: Session, application: Application) -> Card | None:
    """The card of ours the application names, when it is the same citizen's."""
    if application.kind == ApplicationKind.FIRST_ISSUE or not application.replaces_document_number:
        return None
    card = session.scalar(select(Card).where(Card.document_number == application.replaces_document_number))
    if card is None or card.application.applicant.national_number != application.applicant.national_number:
        return None
    return card


def successors(session: Session, card: Card) -> list[Application]:
    """Renewal and replacement applications that name this card, oldest first."""
    if not card.document_number:
        return []
    return list(session.scalars(select(Application).where(
        Application.replaces_document_number == card.document_number,
        Application.kind != ApplicationKind.FIRST_ISSUE).order_by(Application.id)))


def _cause(application: Application) -> RevocationCause:
    if application.replacement_reason in LOSS:
        return RevocationCause(str(application.replacement_reason))
    return RevocationCause.SUPERSEDED


def revoke_reported_losses(session: Session, application_ids: Sequence[int], actor: Actor) -> list[int]:
    """Approved replacements for a lost or stolen card revoke that card now; the card ids revoked."""
    revoked = []
    for application in session.scalars(select(Application).where(
            Application.id.in_(list(application_ids)), Application.state == ApplicationState.APPROVED,
            Application.kind == ApplicationKind.REPLACEMENT)):
        old = predecessor(session, application)
        if application.replacement_reason in LOSS and old is not None and old.state in REVOCABLE:
            revoke_found(session, old, actor, _cause(application), replaced_by=application.number or "")
            revoked.append(old.id)
    return revoked


def retire_predecessor(session: Session, application: Application, actor: Actor) -> int | None:
    """At hand-over of the new card, the old one still in use is revoked; its id, if it was."""
    old = predecessor(session, application)
    if old is None or old.state not in REVOCABLE:
        return None
    revoke_found(session, old, actor, _cause(application), replaced_by=application.number or "")
    return old.id
