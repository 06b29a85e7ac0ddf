"""Card life cycle API for supervisors: find, dispatch, hand over, activate, suspend, resume, revoke.

Also the entry points' shared wiring of the hand-over evidence: the signature image is cleaned
and the live face compared with the chip portrait by enrollment's code, so the core stays free of it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from enrollment.photo.descriptor import SAME_PERSON_DISTANCE, NoSingleFace, verify_holder
from enrollment.photo.intake import ImageRejected, decode_image
from enrollment.signature import SignatureRejected, prepare_signature
from issuance.biometrics import load_biometric
from issuance.config import Settings
from issuance.delivery import FaceCheck, Handover, card_for_receipt, hand_over
from issuance.lifecycle import (
    LifecycleError,
    RevocationCause,
    SamePerson,
    WrongState,
    activate,
    batch_cards,
    dispatch,
    find_card,
    history,
    next_moves,
    resume,
    revoke_card,
    search_cards,
    suspend,
)
from issuance.models import BiometricKind, Card, User
from issuance.roles import Permission
from issuance.runtime import Runtime
from issuance.successors import successors
from issuance.vault import Vault
from issuance.web.deps import WebRuntime, committing, db_session, require, runtime
from issuance.web.inputs import Code, Id, Line

router = APIRouter(prefix="/api/cards", tags=["card life cycle"])
Supervisor = Annotated[User, Depends(require(Permission.MANAGE_CARD_LIFECYCLE))]
Db = Annotated[Session, Depends(db_session)]
Rt = Annotated[WebRuntime, Depends(runtime)]
SearchTerm = Annotated[Line, Query(max_length=40, description="document, national or application number")]
# Base64 of the largest image accepted (8 MB) with room for padding.
MAX_IMAGE_B64 = 11_200_000
# Arabic for the rules the life cycle refuses with (the English comes with the refusal).
RULES_AR: dict[str, str] = {
    "state": "حالة البطاقة لا تسمح بهذا الإجراء",
    "required": "حقل مطلوب",
    "text": "نص غير صالح: مئتا حرف على الأكثر، بلا أحرف تحكم",
    "document_number": "رقم الوثيقة غير صالح",
    "site": "رمز الموقع غير مسجل",
    "count": "عدد البطاقات غير مقبول",
    "format": "الصيغة غير صحيحة",
    "check_digit": "رقم التحقق غير صحيح",
    "choice": "ليست من القيم المسموحة",
    "image": "الصورة غير مقبولة",
    "face_mismatch": "الوجه الحي لا يطابق صورة الشريحة",
    "no_portrait": "لا توجد صورة شريحة محفوظة للمقارنة",
    "four_eyes": "يلزم مشرف آخر (مبدأ العينين الأربع)",
}


def refusal(exc: LifecycleError) -> HTTPException:
    """The life cycle's refusal in the API's one error shape (409 for a state, else 422)."""
    item = {"field": exc.field, "rule": exc.rule, "en": str(exc), "ar": RULES_AR.get(exc.rule, "")}
    return HTTPException(409 if isinstance(exc, WrongState) else 422, {"message": str(exc), "errors": [item]})


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the life cycle's refusals into HTTP errors."""
    try:
        yield
    except LifecycleError as exc:
        raise refusal(exc) from exc
    except SamePerson as exc:
        item = {"field": "", "rule": "four_eyes", "en": str(exc), "ar": RULES_AR["four_eyes"]}
        raise HTTPException(409, {"message": str(exc), "errors": [item]}) from exc


def signature_png(data: bytes) -> bytes:
    """The holder's signature as a clean PNG (decoded under the intake limits, ink cropped)."""
    try:
        return prepare_signature(data)
    except (ImageRejected, SignatureRejected) as exc:
        raise LifecycleError("signature", "image", str(exc)) from exc


def face_check(session: Session, vault: Vault, settings: Settings, card: Card, live: bytes) -> FaceCheck:
    """The holder's live photo against the chip portrait (DG2) the card was personalized with."""
    portrait = load_biometric(session, vault, card.application_id, BiometricKind.CHIP_PHOTO)
    if portrait is None:
        raise LifecycleError("live_photo", "no_portrait", "no chip portrait is on record to compare with")
    threshold = float(settings.extra.get("face_match_distance", SAME_PERSON_DISTANCE))
    try:
        comparison = verify_holder(decode_image(live), portrait, threshold)
    except (ImageRejected, NoSingleFace) as exc:
        raise LifecycleError("live_photo", "image", str(exc)) from exc
    return FaceCheck(comparison.distance, comparison.threshold)


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LifecycleError(field, "image", "not valid base64") from exc


class CardOut(BaseModel):
    id: int
    document_number: str | None
    state: str
    application: str | None
    application_state: str
    site: str
    collection_office: str | None
    expires_on: str | None
    status_reason: str | None
    holder_cert_serial: str | None
    next: list[str]


class Event(BaseModel):
    seq: int
    ts: str
    actor: str
    action: str
    from_state: str
    to_state: str


class CardDetail(CardOut):
    history: list[Event]
    successors: list[str]


def card_out(card: Card) -> dict[str, Any]:
    """A card as the API and the pages show it."""
    app = card.application
    return {"id": card.id, "document_number": card.document_number, "state": str(card.state),
            "application": app.number, "application_state": str(app.state), "site": app.site,
            "collection_office": card.collection_office, "status_reason": card.status_reason,
            "expires_on": card.expires_on.isoformat() if card.expires_on else None,
            "holder_cert_serial": card.holder_cert_serial, "next": next_moves(card)}


@router.get("")
def list_cards(user: Supervisor, session: Db, q: SearchTerm = "") -> list[CardOut]:
    """Cards of the supervisor's site (or waiting there), newest first, optionally one number's."""
    return [CardOut(**card_out(c)) for c in search_cards(session, user, q)]


@router.get("/{card_id}")
def show_card(card_id: Id, user: Supervisor, session: Db) -> CardDetail:
    """A card, its history from the audit log, and what may happen to it next."""
    card = find_card(session, card_id, user)
    events = [Event(seq=e.seq, ts=e.ts, actor=e.actor, action=e.action, from_state=e.from_state,
                    to_state=e.to_state) for e in history(session, card)]
    return CardDetail(**card_out(card), history=events,
                      successors=[a.number or "" for a in successors(session, card)])


class DispatchIn(BaseModel):
    office: Code
    cards: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=5000)
    batch: Code | None = None


@router.post("/dispatch")
def dispatch_cards(body: DispatchIn, user: Supervisor, session: Db) -> dict[str, Any]:
    """Send printed cards (listed, or a batch's ready ones) to a collection office; all or none."""
    with refusals(), committing(session):
        ids = [*body.cards, *(batch_cards(session, body.batch, user) if body.batch else [])]
        moved = dispatch(session, ids, body.office, user)
    return {"dispatched": len(moved), "office": body.office.upper()}


class HandoverIn(BaseModel):
    receipt: Line = Field(min_length=1, max_length=200)
    document_kind: Code
    document_number: Line = Field(min_length=1, max_length=60)
    signature_png: str = Field(min_length=1, max_length=MAX_IMAGE_B64, description="base64 image")
    live_photo: str | None = Field(default=None, max_length=MAX_IMAGE_B64, description="base64 JPEG or PNG")


def handover_of(session: Session, rt: Runtime, card: Card, fields: dict[str, str], signature: bytes,
                live: bytes | None) -> Handover:
    """The hand-over evidence, the signature cleaned and the face compared (a LifecycleError if not)."""
    face = face_check(session, rt.vault, rt.settings, card, live) if live else None
    return Handover(fields["receipt"], fields["document_kind"], fields["document_number"],
                    signature_png(signature), face)


def record_handover(session: Session, rt: Runtime, user: User, fields: dict[str, str], signature: bytes,
                    live: bytes | None) -> Card:
    """Find the receipt's card, check the evidence and record the hand-over (one transaction)."""
    card = card_for_receipt(session, fields["receipt"], user)
    evidence = handover_of(session, rt, card, fields, signature, live)
    with committing(session):
        hand_over(session, rt.vault, evidence, user)
    return card


@router.post("/handover")
def handover(body: HandoverIn, user: Supervisor, session: Db, rt: Rt) -> CardOut:
    """Hand a dispatched card to its holder: receipt, identity document, signature, optional live face."""
    with refusals():
        live = _b64(body.live_photo, "live_photo") if body.live_photo else None
        signature = _b64(body.signature_png, "signature")
        card = record_handover(session, rt, user, body.model_dump(), signature, live)
    session.refresh(card)
    return CardOut(**card_out(card))


class ReasonIn(BaseModel):
    reason: Line = Field(min_length=1, max_length=200)


class RevokeIn(BaseModel):
    cause: RevocationCause
    note: Line = Field(default="", max_length=200)


@router.post("/{card_id}/activate")
def activate_card(card_id: Id, user: Supervisor, session: Db) -> CardOut:
    """The holder's card goes live (issued -> active)."""
    with refusals(), committing(session):
        return CardOut(**card_out(activate(session, card_id, user)))


@router.post("/{card_id}/suspend")
def suspend_card(card_id: Id, body: ReasonIn, user: Supervisor, session: Db) -> CardOut:
    """Block an active card for a while, saying why."""
    with refusals(), committing(session):
        return CardOut(**card_out(suspend(session, card_id, user, body.reason)))


@router.post("/{card_id}/resume")
def resume_card(card_id: Id, body: ReasonIn, user: Supervisor, session: Db) -> CardOut:
    """Lift a suspension; another supervisor than the one who suspended."""
    with refusals(), committing(session):
        return CardOut(**card_out(resume(session, card_id, user, body.reason)))


@router.post("/{card_id}/revoke")
def revoke(card_id: Id, body: RevokeIn, user: Supervisor, session: Db) -> CardOut:
    """Revoke a card (lost, stolen, damaged, superseded, withdrawn); its certificate goes on the CRL."""
    with refusals(), committing(session):
        return CardOut(**card_out(revoke_card(session, card_id, user, body.cause, body.note)))
