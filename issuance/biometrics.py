"""Storing and reading biometric images: sealed in the vault, metadata beside them in clear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Application, BiometricImage, BiometricKind
from issuance.vault import Vault


@dataclass(frozen=True)
class ImageMeta:
    media_type: str
    width: int
    height: int


def context_of(application_id: int, kind: BiometricKind) -> str:
    """The associated data a record's image is sealed under."""
    return f"application:{application_id}:{kind}"


def store_biometric(
    session: Session, vault: Vault, application_id: int, kind: BiometricKind, data: bytes,
    meta: ImageMeta, actor: str, *, quality_passed: bool | None = None,
    quality_report: dict[str, Any] | None = None,
) -> BiometricImage:
    """Seal and store (or replace) one image of an application; audited without the image."""
    row = session.scalars(select(BiometricImage).where(
        BiometricImage.application_id == application_id, BiometricImage.kind == kind)).first()
    if row is None:
        row = BiometricImage(application_id=application_id, kind=kind)
        session.add(row)
    row.ciphertext = vault.seal(data, context_of(application_id, kind))
    row.digest = vault.digest(data)
    row.key_id = vault.key_id
    row.media_type, row.width, row.height = meta.media_type, meta.width, meta.height
    row.byte_size = len(data)
    row.quality_passed, row.quality_report = quality_passed, quality_report
    session.flush()
    audit.record(session, audit.Entry(
        actor=actor, action=f"biometric.{kind}.stored", entity_type="application",
        entity_id=str(application_id),
        details={"digest": row.digest, "bytes": len(data), "quality_passed": quality_passed},
    ))
    if kind == BiometricKind.PHOTO:
        _void_photo_override(session, application_id, actor)
    return row


def _void_photo_override(session: Session, application_id: int, actor: str) -> None:
    # An override accepted one photo; a new one needs a new decision.
    app = session.get(Application, application_id)
    if app is None or app.photo_override_by is None:
        return
    app.photo_override_by = app.photo_override_image_id = app.photo_override_digest = None
    audit.record(session, audit.Entry(
        actor=actor, action="application.photo_override_voided", entity_type="application",
        entity_id=str(application_id), details={"because": "a new photo was uploaded"}))


def remove_biometric(session: Session, application_id: int, kind: BiometricKind, actor: str) -> bool:
    """Delete one image of an application (say, a chip photo derived from a replaced photo)."""
    removed = session.scalars(delete(BiometricImage).where(
        BiometricImage.application_id == application_id, BiometricImage.kind == kind)
        .returning(BiometricImage.id)).first()
    if removed is not None:
        audit.record(session, audit.Entry(
            actor=actor, action=f"biometric.{kind}.removed", entity_type="application",
            entity_id=str(application_id)))
    return removed is not None


def load_biometric(session: Session, vault: Vault, application_id: int, kind: BiometricKind) -> bytes | None:
    """The clear image bytes, or None when none was captured."""
    row = session.scalars(select(BiometricImage).where(
        BiometricImage.application_id == application_id, BiometricImage.kind == kind)).first()
    if row is None:
        return None
    return vault.open(row.ciphertext, context_of(application_id, kind))
