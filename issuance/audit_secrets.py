"""The audit log's secrets filter: no PIN, password, token or key material enters an entry."""

from __future__ import annotations

import re
from typing import Any

# Words that make a field name secret, after splitting camelCase and separators and lower-casing.
SECRET_WORDS = frozenset({
    "pin", "puk", "can", "otp", "password", "passwd", "pwd", "passphrase", "secret", "private",
    "key", "token", "credential", "credentials", "cookie", "mac", "apikey", "seed",
})
# Field names that are secret as a whole once separators are gone (e.g. "APIKey", "sessiontoken").
SECRET_NAMES = frozenset({"apikey", "sessiontoken", "accesstoken", "newpassword", "userpin", "mackey"})
# A name ending in an identifier word names a secret without holding it ("key_id", "token_id").
IDENTIFIER_WORDS = frozenset({"id", "ids"})
# Names whose values are public identifiers that look random by design (a public key's fingerprint,
# a certificate serial, a keyed digest, a key check value): their values are not refused.
PUBLIC_VALUE_WORDS = frozenset({"fingerprint", "serial", "digest", "hash", "thumbprint", "kcv"})
PUBLIC_VALUE_NAMES = frozenset({"checkvalue"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
# Bare values that look like key material: PEM blocks, and hex or base64 strings of key length.
_PEM = re.compile(r"-----BEGIN [A-Z ]*-----")
_HEX_KEY = re.compile(r"^(?:[0-9a-fA-F]{2}){16,}$")
_B64_KEY = re.compile(r"^[A-Za-z0-9+/_-]{22,}={0,2}$")


class AuditSecretError(ValueError):
    """A caller tried to write a secret-looking field or value into the audit log."""


def field_words(name: str) -> list[str]:
    """`newPassword` -> ["new", "password"]; `api-key` -> ["api", "key"]."""
    return [w.lower() for w in _SEPARATORS.split(_CAMEL.sub("_", name)) if w]


def is_secret_name(name: str) -> bool:
    """True when a field of this name could hold a secret."""
    words = field_words(name)
    if not words or words[-1] in IDENTIFIER_WORDS:
        return False
    return bool(SECRET_WORDS.intersection(words)) or "".join(words) in SECRET_NAMES


def names_public_value(name: str) -> bool:
    """True for a field that holds a public identifier (a fingerprint, serial or digest)."""
    words = field_words(name)
    return bool(words) and ("".join(words) in PUBLIC_VALUE_NAMES or words[-1] in PUBLIC_VALUE_WORDS)


def looks_like_key_material(value: object) -> bool:
    """True for raw bytes, PEM blocks and bare hex/base64 strings of 16 bytes or more."""
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if _PEM.search(text):
        return True
    # Random base64 of 16+ bytes nearly always mixes upper case, lower case and digits; names,
    # numbers and UUIDs do not.
    mixed = any(c.isdigit() for c in text) and not text.islower() and not text.isupper()
    return bool(_HEX_KEY.match(text)) or (mixed and bool(_B64_KEY.match(text)))


def check_no_secrets(value: Any, path: str = "details") -> None:
    """Refuse secret field names and key-looking values anywhere in dicts and lists."""
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}"
            if is_secret_name(str(key)):
                raise AuditSecretError(f"audit {where}: field {key!r} looks like a secret; not logged")
            if not (names_public_value(str(key)) and isinstance(inner, str)):
                check_no_secrets(inner, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, inner in enumerate(value):
            check_no_secrets(inner, f"{path}[{i}]")
    elif looks_like_key_material(value):
        raise AuditSecretError(f"audit {path}: the value looks like key material; not logged")
