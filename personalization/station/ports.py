"""What the station asks of the keystore and the PKI, as small protocols (DESIGN §2, §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from personalization.lds.holder import DocumentData, HolderData
from personalization.lds.signer import Signer
from personalization.protocol.kdf import StaticKeys, diversify_keys


class CardKeyProvider(Protocol):
    """The card's SCP03 static keys, derived in the keystore from the issuer master key and the KDD."""

    def card_keys(self, kdd: bytes) -> StaticKeys: ...


@dataclass(frozen=True)
class HolderSubject:
    """Who a holder certificate names."""

    common_name: str
    serial_number: str

    @classmethod
    def of(cls, holder: HolderData, document: DocumentData) -> HolderSubject:
        """Names in reading order from the reviewed MRZ name; the serial number is the document's."""
        primary, _, secondary = holder.mrz_name.rstrip("<").partition("<<")
        words = [*secondary.split("<"), *primary.split("<")]
        return cls(" ".join(w for w in words if w), document.document_number)


class IssuingCA(Protocol):
    """Certifies a holder's P-256 public key (uncompressed point) and returns the DER certificate."""

    @property
    def certificate(self) -> bytes: ...

    def certify(self, public_point: bytes, subject: HolderSubject) -> bytes: ...


@dataclass(frozen=True)
class StationPki:
    """Everything the station signs or derives with, bundled for one run."""

    card_keys: CardKeyProvider
    document_signer: Signer
    issuing_ca: IssuingCA
    csca: bytes  # DER, the trust anchor for the read-back


class MasterKeyProvider:
    """Diversifies from a master key held in memory: training stock and tests only."""

    def __init__(self, master_key: bytes) -> None:
        self._master = master_key

    def __repr__(self) -> str:
        return "MasterKeyProvider(<master key>)"

    def card_keys(self, kdd: bytes) -> StaticKeys:
        return diversify_keys(self._master, kdd)
