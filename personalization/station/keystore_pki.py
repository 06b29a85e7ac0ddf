"""The station's keys in the issuer's keystore and PKI: card keys, the DS for EF.SOD, the issuing CA.

Every private operation runs inside the keystore (DESIGN §8); signatures are counted per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from issuance.db import Database
from issuance.keystore import Keystore
from issuance.pki.profiles import Role
from issuance.pki.signers import HolderName, issue_holder_certificate, sign_document
from issuance.pki.store import PkiDirectory
from personalization.protocol.kdf import StaticKeys
from personalization.station.ports import HolderSubject, StationPki


class SignerRotated(RuntimeError):
    """The current DS changed while a card was being signed: the EF.SOD would not match its certificate."""


@dataclass(frozen=True)
class KeystoreCardKeys:
    """SCP03 keys diversified inside the keystore from the issuer master key (GPC Amd D §6.2.1)."""

    keystore: Keystore
    master_label: str

    def card_keys(self, kdd: bytes) -> StaticKeys:
        return self.keystore.derive_scp03(self.master_label, kdd)


@dataclass(frozen=True)
class KeystoreDocumentSigner:
    """The current DS as the LDS builder's `Signer`: DER ECDSA made in the keystore, counted."""

    db: Database
    keystore: Keystore
    directory: PkiDirectory
    label: str
    ds_certificate: x509.Certificate

    @property
    def certificate(self) -> bytes:
        return self.ds_certificate.public_bytes(Encoding.DER)

    def sign(self, data: bytes) -> bytes:
        with self.db.transaction() as session:
            signature, used = sign_document(session, self.keystore, self.directory, Role.DS, data)
        if used != self.ds_certificate:
            raise SignerRotated(f"the DS changed from {self.label} while the card was signed")
        return signature


@dataclass(frozen=True)
class KeystoreIssuingCA:
    """The signature CA: certifies a holder's on-card P-256 key, signed in the keystore."""

    db: Database
    keystore: Keystore
    directory: PkiDirectory

    @property
    def certificate(self) -> bytes:
        label = self.directory.load().current(Role.ISSUING_CA).label
        return self.directory.certificate(label).public_bytes(Encoding.DER)

    def certify(self, public_point: bytes, subject: HolderSubject) -> bytes:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
        holder = HolderName(subject.common_name, subject.serial_number)
        with self.db.transaction() as session:
            cert = issue_holder_certificate(session, self.keystore, self.directory, holder, public)
        return cert.public_bytes(Encoding.DER)


def station_pki(db: Database, keystore: Keystore, directory: PkiDirectory, master_label: str
                ) -> tuple[StationPki, str]:
    """The station's PKI as it stands now, and the label of the DS that will sign (for the card row)."""
    index = directory.load()
    ds_label = index.current(Role.DS).label
    signer = KeystoreDocumentSigner(db, keystore, directory, ds_label, directory.certificate(ds_label))
    csca = directory.certificate(index.current(Role.CSCA).label).public_bytes(Encoding.DER)
    pki = StationPki(KeystoreCardKeys(keystore, master_label), signer,
                     KeystoreIssuingCA(db, keystore, directory), csca)
    return pki, ds_label
