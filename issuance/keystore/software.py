"""The embedded keystore: one file, encrypted under a passphrase (scrypt, AES-256-GCM), mode 0600."""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from issuance.keystore.base import (
    AES_KINDS,
    DEFAULT_MECHANISM,
    PSS_SALT_LENGTH,
    KeyExists,
    KeyInfo,
    KeyKind,
    KeyNotFound,
    Keystore,
    KeystoreError,
    Mechanism,
    PublicKey,
    WrongKeyKind,
    check_aes_value,
    check_label,
    retired_error,
)
from issuance.keystore.kdf import aes_cmac

FORMAT = "issuance-keystore/1"
# scrypt cost: about 50 ms and 32 MiB per unlock (RFC 7914 §2 recommends N=2^14..2^20 for interactive use).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _kdf_params(kdf: object) -> tuple[bytes, int, int, int]:
    """The scrypt parameters of a file, within bounds (a crafted file must not cost hours or GiBs)."""
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise ValueError("kdf must be scrypt")
    salt, n, r, p = _unb64(str(kdf["salt"])), kdf["n"], kdf["r"], kdf["p"]
    if not all(type(v) is int for v in (n, r, p)):
        raise ValueError("scrypt parameters must be integers")
    if len(salt) < 16 or not 2**10 <= n <= 2**20 or n & (n - 1) or not 1 <= r <= 16 or not 1 <= p <= 4:
        raise ValueError("scrypt parameters out of bounds")
    return salt, n, r, p


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


class _Entry:
    """One key held in memory: its description and its material (never handed out)."""

    def __init__(self, info: KeyInfo, material: bytes) -> None:
        self.info = info
        self._material = material
        self._private: PrivateKey | None = None

    def __repr__(self) -> str:
        return f"_Entry({self.info.label!r}, {self.info.kind})"

    @property
    def secret(self) -> bytes:
        return self._material

    @property
    def private(self) -> PrivateKey:
        if self._private is None:
            loaded = serialization.load_der_private_key(self._material, password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
                raise KeystoreError(f"software keystore: key {self.info.label!r} is not EC or RSA")
            self._private = loaded
        return self._private

    def to_json(self) -> dict[str, Any]:
        i = self.info
        return {"kind": i.kind.value, "created": i.created.isoformat(), "retired": i.retired,
                "material": _b64(self._material)}

    @classmethod
    def from_json(cls, label: str, raw: dict[str, Any]) -> _Entry:
        info = KeyInfo(label, KeyKind(raw["kind"]), dt.datetime.fromisoformat(raw["created"]),
                       bool(raw["retired"]))
        return cls(info, _unb64(raw["material"]))


class SoftwareKeystore(Keystore):
    """All keys in one AES-GCM encrypted file; the whole file is rewritten atomically on change."""

    name = "software keystore"

    def __init__(self, path: Path, passphrase: str, *, create: bool = False) -> None:
        if not passphrase:
            raise KeystoreError("software keystore: no passphrase (set ISSUANCE_KEYSTORE_PASSPHRASE)")
        self.path = Path(path)
        self._passphrase = passphrase
        self._entries: dict[str, _Entry] = {}
        if self.path.exists():
            self._load()
        elif create:
            self._change(lambda: None)
        else:
            raise KeystoreError(f"software keystore {self.path}: file does not exist")

    def __repr__(self) -> str:
        return f"SoftwareKeystore({str(self.path)!r}, {len(self._entries)} keys)"

    # --- the file --------------------------------------------------------------------------
    def _check_mode(self) -> None:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise KeystoreError(f"software keystore {self.path}: mode {mode:04o} is too open; must be 0600")

    def _load(self) -> None:
        self._check_mode()
        try:
            envelope = json.loads(self.path.read_text("utf-8"))
            if envelope.get("format") != FORMAT:
                raise ValueError("unknown format")
            kdf = envelope["kdf"]
            key = _derive(self._passphrase, *_kdf_params(kdf))
            header = json.dumps({"format": FORMAT, "kdf": kdf}, sort_keys=True).encode()
            ciphertext, nonce = _unb64(str(envelope["ciphertext"])), _unb64(str(envelope["nonce"]))
            if len(nonce) != 12:
                raise ValueError("nonce must be 12 bytes")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise KeystoreError(f"software keystore {self.path}: not a keystore file ({exc})") from exc
        try:
            plain = AESGCM(key).decrypt(nonce, ciphertext, header)
        except InvalidTag as exc:
            raise KeystoreError(
                f"software keystore {self.path}: wrong passphrase (or the file was altered)") from exc
        keys = json.loads(plain)["keys"]
        self._entries = {label: _Entry.from_json(label, raw) for label, raw in keys.items()}

    def _save(self) -> None:
        salt = os.urandom(16)
        kdf = {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
        key = _derive(self._passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = json.dumps({"format": FORMAT, "kdf": kdf}, sort_keys=True).encode()
        plain = json.dumps({"keys": {k: e.to_json() for k, e in self._entries.items()}}).encode()
        nonce = os.urandom(12)
        body = {"format": FORMAT, "kdf": kdf, "nonce": _b64(nonce),
                "ciphertext": _b64(AESGCM(key).encrypt(nonce, plain, header))}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    # --- keys ------------------------------------------------------------------------------
    def _entry(self, label: str) -> _Entry:
        try:
            return self._entries[label]
        except KeyError:
            raise KeyNotFound(f"{self.name}: no key labelled {label!r}") from None

    def _usable(self, label: str, kinds: set[KeyKind]) -> _Entry:
        entry = self._entry(label)
        if entry.info.retired:
            raise retired_error(self.name, label)
        if entry.info.kind not in kinds:
            raise WrongKeyKind(f"{self.name}: key {label!r} is {entry.info.kind}, not usable here")
        return entry

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Several processes may share the file: each change re-reads it under an exclusive lock.
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self.path.exists():
                self._load()
            yield
        finally:
            os.close(fd)

    def _change(self, apply: Callable[[], None]) -> None:
        with self._locked():
            apply()
            self._save()

    def _add(self, label: str, kind: KeyKind, material: bytes) -> KeyInfo:
        check_label(label)
        info = KeyInfo(label, kind, dt.datetime.now(dt.UTC).replace(microsecond=0))

        def add() -> None:
            if label in self._entries:
                raise KeyExists(f"{self.name}: a key labelled {label!r} exists already")
            self._entries[label] = _Entry(info, material)

        self._change(add)
        return info

    def _add_pair(self, label: str, kind: KeyKind, key: PrivateKey) -> KeyInfo:
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return self._add(label, kind, der)

    def generate_aes(self, label: str, bits: int = 128) -> KeyInfo:
        if bits not in AES_KINDS:
            raise KeystoreError(f"bits: AES master keys are 128 or 256 bits, got {bits}")
        return self._add(label, AES_KINDS[bits], os.urandom(bits // 8))

    def import_aes(self, label: str, value: bytes) -> KeyInfo:
        return self._add(label, check_aes_value(value), bytes(value))

    def generate_ec_p256(self, label: str) -> KeyInfo:
        return self._add_pair(label, KeyKind.EC_P256, ec.generate_private_key(ec.SECP256R1()))

    def generate_rsa3072(self, label: str) -> KeyInfo:
        return self._add_pair(label, KeyKind.RSA3072, rsa.generate_private_key(65537, 3072))

    def cmac(self, label: str, blocks: list[bytes]) -> list[bytes]:
        secret = self._usable(label, {KeyKind.AES128, KeyKind.AES256}).secret
        return [aes_cmac(secret, block) for block in blocks]

    def sign(self, label: str, data: bytes, mechanism: Mechanism | None = None) -> bytes:
        entry = self._usable(label, {KeyKind.EC_P256, KeyKind.RSA3072})
        mechanism = mechanism or DEFAULT_MECHANISM[entry.info.kind]
        if mechanism is not DEFAULT_MECHANISM[entry.info.kind]:
            raise WrongKeyKind(f"{self.name}: key {label!r} ({entry.info.kind}) cannot sign with {mechanism}")
        digest = hashlib.sha256(data).digest()
        key = entry.private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)
        return key.sign(digest, pss, utils.Prehashed(hashes.SHA256()))

    def public_key(self, label: str) -> PublicKey:
        entry = self._entry(label)
        if entry.info.kind not in DEFAULT_MECHANISM:
            raise WrongKeyKind(f"{self.name}: key {label!r} is {entry.info.kind}; it has no public key")
        return entry.private.public_key()

    def list_keys(self) -> list[KeyInfo]:
        return [e.info for e in self._entries.values()]

    def info(self, label: str) -> KeyInfo:
        return self._entry(label).info

    def retire(self, label: str) -> None:
        def mark() -> None:
            info = self._entry(label).info
            self._entry(label).info = KeyInfo(info.label, info.kind, info.created, retired=True)

        self._change(mark)

    def destroy(self, label: str) -> None:
        def remove() -> None:
            self._entries.pop(label, None)

        self._change(remove)
