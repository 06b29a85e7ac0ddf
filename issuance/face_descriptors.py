"""Face descriptors kept for 1:N search: sealed in the vault like the images, audited without them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.models import Applicant, FaceDescriptor
from issuance.vault import Vault

MODEL = "dlib_resnet_v1"


def _context(application_id: int) -> str:
    return f"application:{application_id}:face_descriptor"


def store_descriptor(session: Session, vault: Vault, application_id: int, data: bytes, actor: str) -> None:
    """Seal and store (or replace) the descriptor bytes of one application."""
    query = select(FaceDescriptor).where(FaceDescriptor.application_id == application_id)
    row = session.scalars(query).first()
    if row is None:
        row = FaceDescriptor(application_id=application_id, model=MODEL)
        session.add(row)
    row.ciphertext = vault.seal(data, _context(application_id))
    session.flush()
    audit.record(session, audit.Entry(actor=actor, action="biometric.face_descriptor.stored",
                                      entity_type="application", entity_id=str(application_id),
                                      details={"model": MODEL, "bytes": len(data)}))


def load_descriptors(session: Session, vault: Vault, after_id: int = 0) -> list[tuple[int, int, str, bytes]]:
    """Stored descriptors as (row id, application id, national number, clear bytes), oldest first.

    `after_id` reads only rows newer than an index already holds: the database stays the truth and
    an index in memory catches up with it.
    """
    rows = session.execute(select(FaceDescriptor.id, FaceDescriptor.application_id, Applicant.national_number,
                                  FaceDescriptor.ciphertext)
                           .join(Applicant, Applicant.application_id == FaceDescriptor.application_id)
                           .where(FaceDescriptor.model == MODEL, FaceDescriptor.id > after_id)
                           .order_by(FaceDescriptor.id)).all()
    return [(row_id, app_id, number, vault.open(blob, _context(app_id)))
            for row_id, app_id, number, blob in rows]


def count_descriptors(session: Session) -> int:
    """How many descriptors of the current model are kept."""
    query = (select(func.count()).select_from(FaceDescriptor)
             .join(Applicant, Applicant.application_id == FaceDescriptor.application_id)
             .where(FaceDescriptor.model == MODEL))
    return int(session.execute(query).scalar_one())
