"""The audit log's keys: an HMAC key that chains entries and a signing key for checkpoints.

Neither key is ever in the database, so whoever can write to it can still not forge the chain.
`AuditKeys` is the port; `FileAuditKeys` (the embedded default) keeps both in 0600 files under the
key folder; `KeystoreAuditKeys` keeps both inside the keystore (software file or PKCS#11 token).
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from issuance.keyfiles import read_or_create
from issuance.keystore import KeyNotFound, Keystore

CHAIN_KEY_FILE = "audit-chain.key"
SIGNING_KEY_FILE = "audit-checkpoint.pem"


class UnknownAuditKey(KeyError):
    """An entry names a chain key this installation does not hold."""


class AuditKeys(Protocol):
    """What the audit log needs from a keystore."""

    @property
    def key_id(self) -> str:
        """The id of the chain key new entries are written with."""
        ...

    def mac(self, data: bytes, key_id: str) -> str:
        """HMAC-SHA256 (RFC 2104) of `data` under the chain key `key_id`, as hex."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A checkpoint signature over `data`."""
        ...

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True when `signature` over `data` was made by this installation's checkpoint key."""
        ...

    def public_key_pem(self) -> bytes:
        """The checkpoint verification key, for verifying checkpoints with other tools."""
        ...


def _new_signing_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class _SigningChain(ABC):
    """What both implementations share: the key id, the MAC guard, verification, the public PEM."""

    _key_id: str
    _public: Ed25519PublicKey | ec.EllipticCurvePublicKey

    @property
    def key_id(self) -> str:
        return self._key_id

    def mac(self, data: bytes, key_id: str) -> str:
        if key_id != self._key_id:
            raise UnknownAuditKey(key_id)
        return self._mac(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._check(signature, data)
        except InvalidSignature:
            return False
        return True

    def public_key_pem(self) -> bytes:
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @abstractmethod
    def _mac(self, data: bytes) -> str:
        """The chain MAC of `data` as hex."""

    @abstractmethod
    def _check(self, signature: bytes, data: bytes) -> None:
        """Raise InvalidSignature unless `signature` over `data` is ours."""


class FileAuditKeys(_SigningChain):
    """Both keys in 0600 files of the key folder, created on first use: HMAC-SHA256 and Ed25519."""

    def __init__(self, key_dir: Path) -> None:
        self._chain_key = read_or_create(key_dir / CHAIN_KEY_FILE, lambda: os.urandom(32))
        pem = read_or_create(key_dir / SIGNING_KEY_FILE, _new_signing_key)
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{key_dir / SIGNING_KEY_FILE}: not an Ed25519 private key")
        self._signer = private
        self._ed25519 = private.public_key()
        self._public = self._ed25519
        # The id names the key without revealing it: a MAC of a fixed label under the key.
        self._key_id = self._mac(b"audit chain key id")[:12]

    def _mac(self, data: bytes) -> str:
        return hmac_lib.new(self._chain_key, data, hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data)

    def _check(self, signature: bytes, data: bytes) -> None:
        self._ed25519.verify(signature, data)


class KeystoreAuditKeys(_SigningChain):
    """Both audit keys inside the keystore: AES-CMAC (NIST SP 800-38B) chains, ECDSA P-256 signs."""

    CHAIN_LABEL = "audit-chain"
    SIGNING_LABEL = "audit-checkpoint"

    def __init__(self, keystore: Keystore, *, create: bool = False) -> None:
        self._keystore = keystore
        labels = {key.label for key in keystore.list_keys()}
        for label, make in ((self.CHAIN_LABEL, lambda: keystore.generate_aes(self.CHAIN_LABEL, 256)),
                            (self.SIGNING_LABEL, lambda: keystore.generate_ec_p256(self.SIGNING_LABEL))):
            if label not in labels:
                if not create:
                    raise KeyNotFound(f"{keystore.name}: no audit key {label!r} (create it once)")
                make()
        public = keystore.public_key(self.SIGNING_LABEL)
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ValueError(f"{keystore.name}: {self.SIGNING_LABEL!r} is not an EC key")
        self._ecdsa = public
        self._public = public
        self._key_id = "ks-" + self._mac(b"audit chain key id")[:9]

    def _mac(self, data: bytes) -> str:
        return self._keystore.cmac(self.CHAIN_LABEL, [data])[0].hex()

    def sign(self, data: bytes) -> bytes:
        return self._keystore.sign(self.SIGNING_LABEL, data)

    def _check(self, signature: bytes, data: bytes) -> None:
        self._ecdsa.verify(signature, data, ec.ECDSA(hashes.SHA256()))
