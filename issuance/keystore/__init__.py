"""The keystore port and its two implementations; `open_keystore` picks one from the settings."""

from __future__ import annotations

from issuance.config import Settings
from issuance.keystore.base import (
    KeyExists,
    KeyInfo,
    KeyKind,
    KeyNotFound,
    KeyRetired,
    Keystore,
    KeystoreError,
    Mechanism,
    PublicKey,
    WrongKeyKind,
    fingerprint,
)
from issuance.keystore.kdf import StaticKeys
from issuance.keystore.pkcs11 import Pkcs11Keystore
from issuance.keystore.software import SoftwareKeystore

__all__ = [
    "KeyExists", "KeyInfo", "KeyKind", "KeyNotFound", "KeyRetired", "Keystore", "KeystoreError",
    "Mechanism", "Pkcs11Keystore", "PublicKey", "SoftwareKeystore", "StaticKeys", "WrongKeyKind",
    "fingerprint", "open_keystore",
]


def open_keystore(settings: Settings, *, create: bool = False) -> Keystore:
    """The configured keystore: the PKCS#11 token, or the software file (created when asked)."""
    if settings.keystore == "pkcs11":
        return Pkcs11Keystore(settings.pkcs11_library, settings.pkcs11_token, settings.pkcs11_pin)
    return SoftwareKeystore(settings.effective_keystore_path, settings.keystore_passphrase, create=create)
