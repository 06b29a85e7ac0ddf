"""The keystore port: keys that are generated, used and retired inside it, never exported."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from issuance.keystore.kdf import DIVERSIFY_DEK, DIVERSIFY_ENC, DIVERSIFY_MAC, StaticKeys, counter_blocks

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
LABEL_RULE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# RSA-PSS parameters used everywhere (RFC 4055 §3.1): SHA-256, MGF1-SHA-256, 32-byte salt.
PSS_SALT_LENGTH = 32


class KeyKind(StrEnum):
    AES128 = "aes-128"
    AES256 = "aes-256"
    EC_P256 = "ec-p256"
    RSA3072 = "rsa-3072"


class Mechanism(StrEnum):
    """Signature mechanisms: the message is hashed with SHA-256 and signed inside the keystore."""

    ECDSA_SHA256 = "ecdsa-sha256"
    RSA_PSS_SHA256 = "rsa-pss-sha256"


DEFAULT_MECHANISM = {KeyKind.EC_P256: Mechanism.ECDSA_SHA256, KeyKind.RSA3072: Mechanism.RSA_PSS_SHA256}
AES_KINDS = {128: KeyKind.AES128, 256: KeyKind.AES256}


class KeystoreError(RuntimeError):
    """A keystore operation failed; the message is one line naming the cause."""


class KeyNotFound(KeystoreError):
    pass


class KeyExists(KeystoreError):
    pass


class KeyRetired(KeystoreError):
    pass


def retired_error(keystore: str, label: str) -> KeyRetired:
    return KeyRetired(f"{keystore}: key {label!r} is retired; it no longer signs or derives")


class WrongKeyKind(KeystoreError):
    pass


@dataclass(frozen=True)
class KeyInfo:
    """What the keystore tells about a key: never its material."""

    label: str
    kind: KeyKind
    created: dt.datetime
    retired: bool = False


def check_label(label: str) -> str:
    """Labels are short lowercase names, the same in every keystore."""
    if not LABEL_RULE.match(label):
        raise KeystoreError(f"label {label!r}: must be 1-64 of a-z 0-9 . _ - starting with a letter or digit")
    return label


def fingerprint(public_key: PublicKey) -> str:
    """SHA-256 of the SubjectPublicKeyInfo, hex: what ceremony records and status show."""
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def scp03_kdf_blocks(kdd: bytes, key_bytes: int) -> dict[str, list[bytes]]:
    """CMAC inputs that diversify ENC, MAC and DEK from the master key ('KDF3', NIST SP 800-108 §5.1)."""
    return {
        name: counter_blocks(b"", constant + kdd, key_bytes)
        for name, constant in (("enc", DIVERSIFY_ENC), ("mac", DIVERSIFY_MAC), ("dek", DIVERSIFY_DEK))
    }


def check_aes_value(value: bytes) -> KeyKind:
    if len(value) * 8 not in AES_KINDS:
        raise KeystoreError(f"value: an AES master key is 16 or 32 bytes, got {len(value)}")
    return AES_KINDS[len(value) * 8]


def check_kdd(kdd: bytes) -> bytes:
    if not 1 <= len(kdd) <= 32:
        raise KeystoreError(f"kdd: must be 1 to 32 bytes, got {len(kdd)}")
    return kdd


class Keystore(ABC):
    """Generate, use and retire keys by label; private and secret key material never leaves."""

    name: str = "keystore"

    @abstractmethod
    def generate_aes(self, label: str, bits: int = 128) -> KeyInfo:
        """A new AES master key (128 or 256 bits), usable only for CMAC-based derivation."""

    @abstractmethod
    def import_aes(self, label: str, value: bytes) -> KeyInfo:
        """Take in an existing AES master key (migration of old card stock); it never comes back out."""

    @abstractmethod
    def generate_ec_p256(self, label: str) -> KeyInfo:
        """A new EC key pair on NIST P-256."""

    @abstractmethod
    def generate_rsa3072(self, label: str) -> KeyInfo:
        """A new RSA-3072 key pair (public exponent 65537)."""

    @abstractmethod
    def cmac(self, label: str, blocks: list[bytes]) -> list[bytes]:
        """AES-CMAC of each block under the secret key `label` (NIST SP 800-38B)."""

    @abstractmethod
    def sign(self, label: str, data: bytes, mechanism: Mechanism | None = None) -> bytes:
        """Sign data: ECDSA gives a DER Ecdsa-Sig-Value, RSA-PSS the raw signature."""

    @abstractmethod
    def public_key(self, label: str) -> PublicKey:
        """The public half of a key pair."""

    @abstractmethod
    def list_keys(self) -> list[KeyInfo]:
        """Every key: label, kind, creation time, retired or not."""

    @abstractmethod
    def retire(self, label: str) -> None:
        """Refuse any further use of the key, without destroying it."""

    @abstractmethod
    def destroy(self, label: str) -> None:
        """Delete a key; only to undo a ceremony that failed before anything used the key."""

    def close(self) -> None:  # noqa: B027  (optional hook: nothing to release by default)
        """Release sessions and handles."""

    def info(self, label: str) -> KeyInfo:
        for key in self.list_keys():
            if key.label == label:
                return key
        raise KeyNotFound(f"{self.name}: no key labelled {label!r}")

    def master_kind(self, label: str) -> KeyKind:
        """The kind of an AES master key (WrongKeyKind for any other key)."""
        kind = self.info(label).kind
        if kind not in (KeyKind.AES128, KeyKind.AES256):
            raise WrongKeyKind(f"{self.name}: key {label!r} is {kind}, not an AES master key")
        return kind

    def derive_scp03(self, master_label: str, kdd: bytes, kvn: int = 0x30) -> StaticKeys:
        """A card's static SCP03 keys from the master key by its KDD (GPC Amd D §4.1.5, SP 800-108).

        The CMAC runs inside the keystore, so the master key never leaves it. The derived card keys
        do: the chip layer computes the SCP03 session keys, cryptograms and MACs in the host for every
        APDU, so it needs them as bytes. They open one card only, and only while it is in issuance.
        """
        kind = self.master_kind(master_label)
        size = 16 if kind is KeyKind.AES128 else 32
        plan = scp03_kdf_blocks(check_kdd(kdd), size)
        macs = self.cmac(master_label, [b for blocks in plan.values() for b in blocks])
        per_key = len(macs) // 3
        enc, mac, dek = (b"".join(macs[i * per_key:(i + 1) * per_key])[:size] for i in range(3))
        return StaticKeys(enc, mac, dek, kvn)

    def __enter__(self) -> Keystore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
