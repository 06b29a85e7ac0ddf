"""Encryption at rest for biometric data (DESIGN §8): AES-256-GCM with keys outside the database.

Every sealed blob names the key that sealed it, so the key can be rotated (`issuance vault rotate`)
while older blobs stay readable. Image digests are keyed (HMAC-SHA256 under a key derived from the
vault key), because a plain hash of a small image is enough to recognise it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from issuance.keyfiles import read_or_create, read_private, replace_private

KEY_ENV = "ISSUANCE_BIOMETRIC_KEY"
CURRENT_FILE = "biometric-current"
_NONCE = 12
_V1 = b"\x01"  # version, nonce, ciphertext: sealed before key ids existed
_V2 = b"\x02"  # version, 8-byte key id, nonce, ciphertext
_KID = 8
DIGEST_PREFIX = "hmac-sha256:"


class VaultError(ValueError):
    """A key is malformed or missing, or a sealed blob cannot be opened."""


def key_id_of(key: bytes) -> str:
    """An 8-character id naming a key without revealing it."""
    return hmac.new(key, b"vault key id", hashlib.sha256).hexdigest()[:_KID]


def parse_key(raw: str, source: str) -> bytes:
    """A base64 AES-256 key, or a one-line VaultError naming where it came from."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultError(f"{source}: not valid base64 (expected 32 random bytes, base64-encoded)") from None
    if len(key) != 32:
        raise VaultError(f"{source}: decodes to {len(key)} bytes; an AES-256 key is 32 bytes")
    return key


class Vault:
    """Seals and opens blobs; the record's identity is bound in as associated data."""

    def __init__(self, key: bytes, older: list[bytes] | None = None) -> None:
        if len(key) != 32:
            raise VaultError("biometric key: must be 32 bytes (AES-256)")
        self.key_id = key_id_of(key)
        self._keys = {key_id_of(k): AESGCM(k) for k in (older or [])}
        self._keys[self.key_id] = AESGCM(key)
        digest_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"biometric image digest").derive(key)
        self._digest_key = digest_key

    @classmethod
    def from_settings(cls, key_dir: Path) -> Vault:
        """The current key from ISSUANCE_BIOMETRIC_KEY (base64) or the key folder; older keys too."""
        ring = load_ring(key_dir)
        raw = os.environ.get(KEY_ENV)
        if raw:
            return cls(parse_key(raw, KEY_ENV), list(ring.values()))
        current = current_key_id(key_dir, ring)
        return cls(ring[current], [k for kid, k in ring.items() if kid != current])

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt; `context` (e.g. "application:12:photo") must be given again to open."""
        nonce = os.urandom(_NONCE)
        body = self._keys[self.key_id].encrypt(nonce, plaintext, context.encode())
        return _V2 + self.key_id.encode() + nonce + body

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt and authenticate a sealed blob."""
        if blob[:1] == _V2:
            kid = blob[1 : 1 + _KID].decode("ascii", "replace")
            aead = self._keys.get(kid)
            if aead is None:
                raise VaultError(f"sealed blob for {context}: key {kid} is not in the key ring")
            return self._decrypt([aead], blob[1 + _KID :], context)
        if blob[:1] == _V1:
            return self._decrypt(list(self._keys.values()), blob[1:], context)
        raise VaultError("sealed blob: unknown format version")

    @staticmethod
    def sealed_with(blob: bytes) -> str:
        """The id of the key a blob was sealed with ("" for blobs older than key ids)."""
        return blob[1 : 1 + _KID].decode("ascii", "replace") if blob[:1] == _V2 else ""

    def digest(self, data: bytes) -> str:
        """A keyed digest of clear data: stable for this key, useless to anyone without it."""
        return DIGEST_PREFIX + hmac.new(self._digest_key, data, hashlib.sha256).hexdigest()

    def _decrypt(self, candidates: list[AESGCM], rest: bytes, context: str) -> bytes:
        nonce, body = rest[:_NONCE], rest[_NONCE:]
        for aead in candidates:
            try:
                return aead.decrypt(nonce, body, context.encode())
            except InvalidTag:
                continue
        raise VaultError(f"sealed blob for {context}: authentication failed")


def _key_path(key_dir: Path, kid: str) -> Path:
    return key_dir / f"biometric-{kid}.key"


def load_ring(key_dir: Path) -> dict[str, bytes]:
    """Every biometric key file of the key folder, by key id."""
    ring = {}
    for path in sorted(key_dir.glob("biometric-*.key")):
        key = read_private(path)
        ring[key_id_of(key)] = key
    return ring


def current_key_id(key_dir: Path, ring: dict[str, bytes]) -> str:
    """The key new blobs are sealed with; the first use makes one."""
    pointer = key_dir / CURRENT_FILE
    if not pointer.exists():
        new_key(key_dir)
        ring.update(load_ring(key_dir))
    kid = read_private(pointer).decode().strip()
    if kid not in ring:
        raise VaultError(f"{pointer}: names key {kid}, but biometric-{kid}.key is missing")
    return kid


def new_key(key_dir: Path) -> str:
    """Create a new key file and make it current; older keys stay to open older blobs."""
    key = AESGCM.generate_key(bit_length=256)
    kid = key_id_of(key)
    read_or_create(_key_path(key_dir, kid), lambda: key)
    replace_private(key_dir / CURRENT_FILE, kid.encode())
    return kid
