"""Storing and reading biometric images: sealed in the vault, metadata beside them in clear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import BiometricImage, BiometricKind
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
    return row


def load_biometric(session: Session, vault: Vault, application_id: int, kind: BiometricKind) -> bytes | None:
    """The clear image bytes, or None when none was captured."""
    row = session.scalars(select(BiometricImage).where(
        BiometricImage.application_id == application_id, BiometricImage.kind == kind)).first()
    if row is None:
        return None
    return vault.open(row.ciphertext, context_of(application_id, kind))
