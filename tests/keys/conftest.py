"""Keystore fixtures: a private SoftHSM2 token directory per test process, and both keystores."""

from __future__ import annotations

import os
import struct
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from issuance.config import Settings
from issuance.db import Database
from issuance.keystore import Keystore, Pkcs11Keystore, open_keystore
from issuance.keystore import software as software_keystore
from issuance.models import Role
from issuance.runtime import audit_anchor
from tests.factories import make_user

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
PIN, SO_PIN = "246810", "13579111"
# SoftHSM2 keeps a token's flags in its token.object file as a vendor attribute (CKA_OS_TOKENFLAGS).
_TOKENFLAGS_ATTR = struct.pack(">QQ", 0x8000534B, 2)
CKF_USER_PIN_LOCKED = 0x00040000


@dataclass(frozen=True)
class SoftHsm:
    conf: Path
    library: str
    token: str
    locked_token: str
    pin: str

    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf), "ISSUANCE_KEYSTORE": "pkcs11",
                "ISSUANCE_PKCS11_LIBRARY": self.library, "ISSUANCE_PKCS11_TOKEN": self.token,
                "ISSUANCE_PKCS11_PIN": self.pin}


def _init_token(conf: Path, label: str) -> None:
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN,
                    "--so-pin", SO_PIN], env={**os.environ, "SOFTHSM2_CONF": str(conf)},
                   check=True, capture_output=True, timeout=60)


def _lock(tokens: Path) -> None:
    """Mark the newest token's user PIN locked, as a token does after too many wrong PINs.

    SoftHSM2 counts no failures itself; it reports the flag it finds in its token file.
    """
    path = max(tokens.glob("*/token.object"), key=lambda p: p.stat().st_mtime_ns)
    data = bytearray(path.read_bytes())
    at = data.index(_TOKENFLAGS_ATTR) + len(_TOKENFLAGS_ATTR)
    flags = struct.unpack(">Q", data[at:at + 8])[0]
    data[at:at + 8] = struct.pack(">Q", flags | CKF_USER_PIN_LOCKED)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """Two tokens in a private directory: a working one and one whose PIN is locked.

    SoftHSM2 reads SOFTHSM2_CONF once per process, when the library is first initialised.
    """
    root = tmp_path_factory.mktemp("softhsm")
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2-test.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    _init_token(conf, "issuance-test")
    _init_token(conf, "issuance-locked")
    _lock(tokens)
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return SoftHsm(conf, LIBRARY, "issuance-test", "issuance-locked", PIN)


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cheaper scrypt cost for tests (the format records it, so files stay readable)."""
    monkeypatch.setattr(software_keystore, "SCRYPT_N", 2**12)


@pytest.fixture(params=["software", "pkcs11"])
def keystore_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def keystore_settings(keystore_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings naming a fresh keystore of the parametrised kind."""
    base = replace(Settings(), data_dir=tmp_path / "var")
    if keystore_kind == "software":
        return replace(base, keystore="software", keystore_passphrase="correct horse battery staple")
    hsm: SoftHsm = request.getfixturevalue("softhsm")
    return replace(base, keystore="pkcs11", pkcs11_library=hsm.library, pkcs11_token=hsm.token,
                   pkcs11_pin=hsm.pin)


@pytest.fixture
def label_prefix() -> str:
    """Labels unique to the test: the SoftHSM2 token is shared by the whole test process."""
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def keystore(keystore_settings: Settings, label_prefix: str) -> Iterator[Keystore]:
    store = open_keystore(keystore_settings, create=True)
    yield store
    if isinstance(store, Pkcs11Keystore):
        for key in store.list_keys():
            if key.label.startswith(label_prefix):
                store.destroy(key.label)
    store.close()


ADMINS = ("alice", "bob")


@pytest.fixture
def pki_settings(keystore_settings: Settings, database_url: str) -> Iterator[Settings]:
    """A keystore of the parametrised kind, a database of each kind, and two admin accounts.

    PKI labels are fixed (csca-1, ds-1, ...), so the shared SoftHSM2 token is emptied afterwards.
    """
    settings = replace(keystore_settings, database_url=database_url)
    db = Database(database_url, audit_anchor(settings))
    for name in ADMINS:
        make_user(db, name, Role.ADMIN)
    db.dispose()
    yield settings
    if settings.keystore == "pkcs11":
        with open_keystore(settings) as store:
            for key in store.list_keys():
                store.destroy(key.label)


def env_of(settings: Settings) -> dict[str, str]:
    """The environment that makes `issuance ...` use these settings."""
    env = {"ISSUANCE_DATA_DIR": str(settings.data_dir), "ISSUANCE_DATABASE_URL": settings.database_url,
           "ISSUANCE_KEYSTORE": settings.keystore, "ISSUANCE_ISSUING_STATE": settings.issuing_state}
    if settings.keystore == "software":
        env["ISSUANCE_KEYSTORE_PASSPHRASE"] = settings.keystore_passphrase
    else:
        env["ISSUANCE_PKCS11_LIBRARY"] = settings.pkcs11_library
        env["ISSUANCE_PKCS11_TOKEN"] = settings.pkcs11_token
        env["ISSUANCE_PKCS11_PIN"] = settings.pkcs11_pin
    return env
