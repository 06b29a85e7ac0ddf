"""Encryption at rest for biometric data (DESIGN §8): AES-256-GCM with a key outside the database."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "ISSUANCE_BIOMETRIC_KEY"
_NONCE = 12
_VERSION = b"\x01"


class VaultError(ValueError):
    """A sealed blob cannot be opened: wrong key, wrong record, or tampering."""


class Vault:
    """Seals and opens blobs; the record's identity is bound in as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise VaultError("biometric key: must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, data_dir: Path) -> Vault:
        """The key from ISSUANCE_BIOMETRIC_KEY (base64), else a 0600 key file under the data dir."""
        raw = os.environ.get(KEY_ENV)
        if raw:
            return cls(base64.b64decode(raw))
        path = data_dir / "biometric.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(AESGCM.generate_key(bit_length=256))
        return cls(path.read_bytes())

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt; `context` (e.g. "application:12:photo") must be given again to open."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt and authenticate a sealed blob."""
        if blob[:1] != _VERSION:
            raise VaultError("sealed blob: unknown format version")
        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except Exception as exc:  # InvalidTag carries no message worth keeping
            raise VaultError(f"sealed blob for {context}: authentication failed") from exc
