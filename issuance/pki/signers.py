"""Signing with the PKI's current keys: documents (EF.SOD, seals) and holders' certificates, counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.keystore import Keystore, PublicKey
from issuance.models import KeyUse
from issuance.pki.profiles import PROFILES, PkiInputError, Role, builder, country_code
from issuance.pki.signing import sign_certificate
from issuance.pki.store import PkiDirectory


@dataclass(frozen=True)
class HolderName:
    """Who a holder's signature certificate names: no ORM row, so it survives model renames."""

    full_name: str
    document_number: str

    def x509_name(self, state: str) -> x509.Name:
        if not self.full_name.strip() or not self.document_number.strip():
            raise PkiInputError("holder: full name and document number are required")
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, country_code(state)),
            x509.NameAttribute(NameOID.COMMON_NAME, self.full_name.strip()),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, self.document_number.strip()),
        ])


@dataclass(frozen=True)
class KeystoreSigner:
    """A PKI signer as the printing stage's seal code wants it: `sign(data)` and `certificate`.

    The signature is made inside the keystore (ECDSA, DER); the key never leaves it.
    """

    keystore: Keystore
    label: str
    certificate: x509.Certificate

    def sign(self, data: bytes) -> bytes:
        return self.keystore.sign(self.label, data)


def current_signer(keystore: Keystore, directory: PkiDirectory, role: Role) -> KeystoreSigner:
    """The active signer of a role (the seal signer for the printed 2D code, the DS for EF.SOD)."""
    label = directory.load().current(role).label
    return KeystoreSigner(keystore, label, directory.certificate(label))


def count_use(session: Session, label: str, signatures: int = 1) -> None:
    """Add to a key's signature count (in the caller's transaction)."""
    row = session.scalar(select(KeyUse).where(KeyUse.label == label).with_for_update())
    if row is None:
        row = KeyUse(label=label, signatures=0)
        session.add(row)
    row.signatures += signatures
    row.last_used = dt.datetime.now(dt.UTC)
    session.flush()


def sign_document(session: Session, keystore: Keystore, directory: PkiDirectory, role: Role, data: bytes
                  ) -> tuple[bytes, x509.Certificate]:
    """Sign with the role's active key (DS for EF.SOD, seal signer for the printed code)."""
    if role not in (Role.DS, Role.SEAL):
        raise PkiInputError(f"role: documents are signed by ds or seal, not {role.value}")
    label = directory.load().current(role).label
    signature = keystore.sign(label, data)
    count_use(session, label)
    return signature, directory.certificate(label)


def issue_holder_certificate(session: Session, keystore: Keystore, directory: PkiDirectory,
                             holder: HolderName, public_key: PublicKey, now: dt.datetime | None = None
                             ) -> x509.Certificate:
    """A holder's qualified-signature certificate from the signature CA (non-repudiation)."""
    index = directory.load()
    ca = index.current(Role.ISSUING_CA)
    ca_cert = directory.certificate(ca.label)
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    unsigned = builder(PROFILES[Role.HOLDER], holder.x509_name(index.state), ca_cert.subject, public_key,
                       keystore.public_key(ca.label), now)
    cert = sign_certificate(unsigned, keystore, ca.label)
    count_use(session, ca.label)
    return cert
