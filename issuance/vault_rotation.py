"""Re-sealing biometric images under the current vault key, in batches that can be resumed."""

from __future__ import annotations

from sqlalchemy import select

from issuance import audit
from issuance.biometrics import context_of
from issuance.db import Database
from issuance.models import BiometricImage
from issuance.vault import Vault


def reseal_batch(db: Database, vault: Vault, batch_size: int) -> int:
    """Re-seal up to `batch_size` images not yet under the current key; one transaction."""
    with db.transaction() as s:
        stale = s.scalars(select(BiometricImage).where(BiometricImage.key_id != vault.key_id)
                          .order_by(BiometricImage.id).limit(batch_size).with_for_update()).all()
        for row in stale:
            context = context_of(row.application_id, row.kind)
            row.ciphertext = vault.seal(vault.open(row.ciphertext, context), context)
            row.key_id = vault.key_id
        return len(stale)


def remaining(db: Database, vault: Vault) -> int:
    """Images still sealed under an older key."""
    with db.session() as s:
        return len(s.scalars(select(BiometricImage.id).where(BiometricImage.key_id != vault.key_id)).all())


def reseal_all(db: Database, vault: Vault, batch_size: int, actor: str) -> int:
    """Re-seal every stale image batch by batch (an interrupted run simply runs again); audited."""
    total = 0
    while done := reseal_batch(db, vault, batch_size):
        total += done
    with db.transaction() as s:
        audit.record(s, audit.Entry(actor=actor, action="vault.resealed", entity_type="vault",
                                    entity_id=vault.key_id, details={"resealed": total}))
    return total
