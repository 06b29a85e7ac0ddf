"""The embedded default: a software keystore and a PKI under OUT/pki/, made on first run, then reused."""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from issuance.config import Settings
from issuance.db import Database
from issuance.keystore import SoftwareKeystore
from issuance.pki.ceremony import Admins, init_pki
from issuance.pki.store import PkiDirectory

DEMO_ORGANIZATION = "Civil ID Authority (demo)"
# The demo runs before any account exists: its ceremony names these actors instead.
DEMO_ADMINS = Admins("demo-admin", "demo-witness", accounts=False)


def _demo_passphrase(path: Path) -> str:
    """The demo keystore's passphrase, kept beside it (0600): for the embedded demo only."""
    if path.exists():
        return path.read_text("utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(passphrase + "\n")
    return passphrase


def embedded_settings(out_dir: Path, settings: Settings) -> Settings:
    """Settings for the software keystore under OUT/pki/ (the configured passphrase, or the demo's)."""
    pki = out_dir / "pki"
    passphrase = settings.keystore_passphrase or _demo_passphrase(pki / "keystore.passphrase")
    return dataclasses.replace(settings, keystore="software", keystore_passphrase=passphrase,
                               keystore_path=settings.keystore_path or str(pki / "keystore.json"))


def ensure_pki(out_dir: Path, settings: Settings, db: Database) -> PkiDirectory:
    """OUT/pki/ with csca.pem and the rest: created the first time, reused afterwards."""
    directory = PkiDirectory(out_dir / "pki")
    if directory.exists:
        return directory
    local = embedded_settings(out_dir, settings)
    keystore = SoftwareKeystore(Path(local.keystore_path), local.keystore_passphrase, create=True)
    try:
        init_pki(db, keystore, directory, settings.issuing_state, DEMO_ORGANIZATION, DEMO_ADMINS,
                 site=settings.site)
    finally:
        keystore.close()
    return directory
