"""Handing a card over to its holder: receipt, identity check, face, signature (DESIGN §3).

The holder brings the counter's receipt, whose QR code holds the application number (the same
text is printed beside it, so it can be typed too). The supervisor checks an identity document,
optionally compares the holder's live face with the chip's DG2 portrait, and the holder signs for
the card. The comparison is made by the caller (the face models belong to enrollment): this module
receives its distance and threshold. One transaction: the delivery record with the signature sealed
in the vault, card `printed -> issued`, application `dispatched -> delivered`, and the old card of
a renewal or replacement retired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.lifecycle import LifecycleError, SamePerson, WrongState, find_card
from issuance.models import Application, Card, CardDelivery, User, utcnow
from issuance.numbers import check_digit
from issuance.roles import Permission, authorize
from issuance.sites import in_scope
from issuance.states import ApplicationState, CardState
from issuance.successors import retire_predecessor
from issuance.transitions import Actor, NotFound, move
from issuance.vault import Vault

A, C = ApplicationState, CardState
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
# What the holder may show to prove who they are (kind codes as the screens offer them).
IDENTITY_DOCUMENTS = ("old_card", "passport", "family_book", "driving_licence", "birth_certificate")
_RECEIPT = re.compile(r"^([A-Z0-9-]{1,32})-(\d{9})-(\d)$")
_IDENTITY_NUMBER = re.compile(r"^[A-Z0-9/-]{1,40}$")
_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class FaceCheck:
    """The caller's 1:1 comparison of the live face with the chip portrait."""

    distance: float
    threshold: float

    @property
    def matched(self) -> bool:
        return self.distance < self.threshold


@dataclass(frozen=True)
class Handover:
    """What the supervisor records at the counter."""

    receipt: str  # the receipt QR's text, or the application number typed
    document_kind: str
    document_number: str
    signature_png: bytes
    face: FaceCheck | None = None


def receipt_number(text: str) -> str:
    """The application number a receipt QR (or a typed number) carries, its check digit verified."""
    value = "".join(text.split()).upper()
    found = _RECEIPT.match(value)
    if found is None:
        raise LifecycleError("receipt", "format", "scan the receipt's QR code or type its number "
                                                  "(SITE-000000000-0)")
    if check_digit(found.group(2)) != found.group(3):
        raise LifecycleError("receipt", "check_digit", f"{value}: the check digit is wrong; type it again")
    return value


def identity_document(kind: str, number: str) -> str:
    """The identity document shown, as recorded: "kind:NUMBER"."""
    if kind not in IDENTITY_DOCUMENTS:
        raise LifecycleError("document_kind", "choice", "one of " + ", ".join(IDENTITY_DOCUMENTS))
    value = "".join(number.split()).upper()
    if not _IDENTITY_NUMBER.match(value):
        raise LifecycleError("document_number", "format", "1-40 letters, digits, '/' or '-'")
    return f"{kind}:{value}"


def card_for_receipt(session: Session, text: str, user: User) -> Card:
    """The printed card waiting for the receipt's holder, in the user's scope."""
    authorize(user, Permission.MANAGE_CARD_LIFECYCLE)
    number = receipt_number(text)
    card_id = session.scalar(select(Card.id).join(Application, Card.application_id == Application.id)
                             .where(Application.number == number, Card.state != C.SPOILED))
    if card_id is None:
        raise NotFound(f"no card for application {number}")
    return find_card(session, card_id, user)


def _check_ready(card: Card, user: User) -> None:
    if card.state != C.PRINTED or card.application.state != A.DISPATCHED:
        raise WrongState(f"card {card.document_number} is {card.state} (application "
                         f"{card.application.state}); only a dispatched card is handed over", "receipt")
    if card.collection_office and not in_scope(user, card.collection_office):
        raise WrongState(f"card {card.document_number} waits at {card.collection_office}; hand it over there",
                         "receipt")
    if card.application.clerk_id == user.id:
        raise SamePerson(f"application {card.application.number}: {user.username} enrolled it and cannot "
                         "also hand its card over; another supervisor must")


def _check_evidence(handover: Handover) -> str:
    document = identity_document(handover.document_kind, handover.document_number)
    signature = handover.signature_png
    if not signature:
        raise LifecycleError("signature", "required", "the holder signs for the card")
    if len(signature) > MAX_SIGNATURE_BYTES or not signature.startswith(_PNG):
        raise LifecycleError("signature", "image", f"a PNG image of at most {MAX_SIGNATURE_BYTES} bytes")
    face = handover.face
    if face is not None and not face.matched:
        raise LifecycleError("live_photo", "face_mismatch",
                             f"the live face does not match the chip photo (distance {face.distance:.2f}, "
                             f"same person under {face.threshold:.2f}); check the holder's identity")
    return document


def signature_context(card_id: int) -> str:
    """The associated data the delivery signature is sealed under."""
    return f"card:{card_id}:delivery_signature"


def hand_over(session: Session, vault: Vault, handover: Handover, user: User) -> CardDelivery:
    """Record the hand-over and move the card to issued and its application to delivered."""
    card = card_for_receipt(session, handover.receipt, user)
    _check_ready(card, user)
    document = _check_evidence(handover)
    actor, face = Actor(user.username, user.site), handover.face
    now = utcnow()
    facts = {"receipt": card.application.number, "identity_document": handover.document_kind,
             "face_distance": None if face is None else round(face.distance, 3),
             "face_matched": None if face is None else face.matched}
    if not move(session, Card, card.id, C.ISSUED, actor, expected=C.PRINTED,
                values={"handed_over_at": now}, details=facts):
        raise WrongState(f"card {card.document_number} changed meanwhile; reload", "receipt")
    move(session, Application, card.application_id, A.DELIVERED, actor, expected=A.DISPATCHED,
         details={"card": card.document_number})
    delivery = CardDelivery(
        card_id=card.id, handed_over_by=user.username, receipt_number=str(card.application.number),
        identity_document=document, face_distance=None if face is None else face.distance,
        face_matched=None if face is None else face.matched, created_at=now, signature_key_id=vault.key_id,
        signature=vault.seal(handover.signature_png, signature_context(card.id)))
    session.add(delivery)
    session.flush()
    retire_predecessor(session, session.get_one(Application, card.application_id), actor)
    return delivery


def delivery_signature(session: Session, vault: Vault, card_id: int) -> bytes | None:
    """The holder's signature on delivery, opened for this use only."""
    row = session.get(CardDelivery, card_id)
    if row is None or row.signature is None:
        return None
    return vault.open(row.signature, signature_context(card_id))
