"""The station's keys in the issuer's keystore and PKI: card keys, the DS for EF.SOD, the issuing CA.

Every private operation runs inside the keystore (DESIGN §8); signatures are counted per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from issuance.db import Database
from issuance.keystore import Keystore
from issuance.pki.profiles import Role
from issuance.pki.signers import HolderName, issue_holder_certificate, sign_document
from issuance.pki.store import PkiDirectory
from personalization.protocol.kdf import StaticKeys
from personalization.station.ports import HolderSubject, StationPki


def current_certificate(directory: PkiDirectory, role: Role) -> bytes:
    """The DER certificate of the role's active key, as the PKI folder holds it now."""
    return directory.certificate(directory.load().current(role).label).public_bytes(Encoding.DER)


@dataclass(frozen=True)
class KeystoreCardKeys:
    """SCP03 keys diversified inside the keystore from the issuer master key (GPC Amd D §6.2.1)."""

    keystore: Keystore
    master_label: str

    def card_keys(self, kdd: bytes) -> StaticKeys:
        return self.keystore.derive_scp03(self.master_label, kdd)


@dataclass(frozen=True)
class PkiKeys:
    """Where a PKI role signs: its keystore, the PKI folder, and the database counting signatures."""

    db: Database
    keystore: Keystore
    directory: PkiDirectory


@dataclass(frozen=True)
class KeystoreDocumentSigner(PkiKeys):
    """The current DS as the LDS builder's `Signer`: DER ECDSA made in the keystore, counted.

    Read afresh for each card, so a station picks up `pki rotate-ds` without a restart; an EF.SOD
    caught by a rotation between certificate and signature fails its read-back, and the card is spoiled.
    """

    @property
    def certificate(self) -> bytes:
        return current_certificate(self.directory, Role.DS)

    def sign(self, data: bytes) -> bytes:
        with self.db.transaction() as session:
            signature, _ = sign_document(session, self.keystore, self.directory, Role.DS, data)
        return signature

    def label_of(self, certificate: bytes) -> str:
        """The keystore label of the DS whose certificate this is (recorded on the card row)."""
        for key in self.directory.load().keys:
            if key.role == Role.DS.value and self.directory.certificate(key.label).public_bytes(
                    Encoding.DER) == certificate:
                return key.label
        raise LookupError("no DS of this PKI has that certificate")


@dataclass(frozen=True)
class KeystoreIssuingCA(PkiKeys):
    """The signature CA: certifies a holder's on-card P-256 key, signed in the keystore."""

    @property
    def certificate(self) -> bytes:
        return current_certificate(self.directory, Role.ISSUING_CA)

    def certify(self, public_point: bytes, subject: HolderSubject) -> bytes:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
        holder = HolderName(subject.common_name, subject.serial_number)
        with self.db.transaction() as session:
            cert = issue_holder_certificate(session, self.keystore, self.directory, holder, public)
        return cert.public_bytes(Encoding.DER)


def station_pki(db: Database, keystore: Keystore, directory: PkiDirectory, master_label: str
                ) -> tuple[StationPki, KeystoreDocumentSigner]:
    """The station's PKI over the keystore, and its DS signer (which names the DS key of a card)."""
    signer = KeystoreDocumentSigner(db, keystore, directory)
    pki = StationPki(KeystoreCardKeys(keystore, master_label), signer,
                     KeystoreIssuingCA(db, keystore, directory), current_certificate(directory, Role.CSCA))
    return pki, signer
