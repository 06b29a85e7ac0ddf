"""The PKI folder: certificates (PEM and DER), CRLs, the master list and an index of every key.

Certificates are public, so they live in files that inspection systems and operators can read.
The index records each key's role, certificate and status (active, superseded, retired). Changes are
staged and moved in with `os.replace`, and the index is written last: a PKI exists once its index does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from issuance.keystore import fingerprint
from issuance.pki.profiles import Role

INDEX = "index.json"


class Status:
    ACTIVE = "active"
    SUPERSEDED = "superseded"  # a newer key signs; this one's documents still verify
    RETIRED = "retired"  # the keystore refuses to sign with it; kept until its documents expire


@dataclass(frozen=True)
class KeyRecord:
    """One keystore key of the PKI and the certificate that goes with it."""

    label: str
    role: str
    serial: str
    fingerprint: str
    not_after: str
    signs_until: str
    status: str = Status.ACTIVE

    @property
    def file(self) -> str:
        return f"{self.label}.pem"


@dataclass
class Index:
    state: str
    organization: str
    keys: list[KeyRecord] = field(default_factory=list)
    crl_numbers: dict[str, int] = field(default_factory=dict)

    def current(self, role: Role) -> KeyRecord:
        """The active key of a role (the newest if several)."""
        active = [k for k in self.keys if k.role == role.value and k.status == Status.ACTIVE]
        if not active:
            raise LookupError(f"no active {role.value} key in the PKI")
        return active[-1]

    def record(self, label: str) -> KeyRecord:
        for key in self.keys:
            if key.label == label:
                return key
        raise LookupError(f"label: no PKI key labelled {label!r}")

    def set_status(self, label: str, status: str) -> None:
        self.keys = [replace(k, status=status) if k.label == label else k for k in self.keys]

    def next_label(self, role: Role) -> str:
        taken = [k.label for k in self.keys if k.role == role.value]
        return f"{role.value}-{len(taken) + 1}"


def key_record(label: str, role: Role, cert: x509.Certificate) -> KeyRecord:
    period = cert.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
    signs_until = period.not_after or cert.not_valid_after_utc
    return KeyRecord(label, role.value, format(cert.serial_number, "X"), fingerprint(cert.public_key()),  # type: ignore[arg-type]
                     cert.not_valid_after_utc.isoformat(), signs_until.astimezone(dt.UTC).isoformat())


class PkiDirectory:
    """Reads and changes the PKI folder; `change()` stages files and commits them together."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def exists(self) -> bool:
        return (self.root / INDEX).is_file()

    def load(self) -> Index:
        if not self.exists:
            raise LookupError(f"no PKI in {self.root}: run `issuance pki init` first")
        raw = json.loads((self.root / INDEX).read_text("utf-8"))
        return Index(raw["state"], raw["organization"], [KeyRecord(**k) for k in raw["keys"]],
                     dict(raw.get("crl_numbers", {})))

    def certificate(self, name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.root / f"{name}.pem").read_bytes())

    def staging(self) -> Staging:
        """A private folder for the files of one change."""
        return Staging(self.root / f".staging-{uuid.uuid4().hex}")


class Staging:
    """Files waiting to be moved into the PKI folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index: Index | None = None
        path.mkdir(parents=True, mode=0o700)

    def write(self, name: str, data: bytes) -> None:
        (self.path / name).write_bytes(data)

    def certificate(self, name: str, cert: x509.Certificate) -> None:
        self.write(f"{name}.pem", cert.public_bytes(Encoding.PEM))
        self.write(f"{name}.der", cert.public_bytes(Encoding.DER))

    def crl(self, name: str, crl: x509.CertificateRevocationList) -> None:
        self.write(f"{name}.crl", crl.public_bytes(Encoding.DER))
        self.write(f"{name}.crl.pem", crl.public_bytes(Encoding.PEM))

    def commit(self, root: Path) -> Moved:
        """Move every staged file into `root`, the index last; undo the moves if one fails."""
        if self.index is not None:
            body = {**asdict(self.index), "keys": [asdict(k) for k in self.index.keys]}
            self.write(INDEX, json.dumps(body, indent=2).encode())
        moved = Moved(self.path)
        try:
            for item in sorted(self.path.iterdir(), key=lambda p: (p.name == INDEX, p.name)):
                moved.move(item, root / item.name)
        except OSError:
            moved.undo()
            raise
        return moved

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Moved:
    """Files moved into the PKI folder, with what they replaced, so the move can be undone."""

    def __init__(self, backups: Path) -> None:
        self.backups = backups
        self.done: list[tuple[Path, Path | None]] = []

    def move(self, item: Path, target: Path) -> None:
        backup = None
        if target.exists():
            backup = self.backups / f"{target.name}.previous"
            os.replace(target, backup)
        os.replace(item, target)
        self.done.append((target, backup))

    def undo(self) -> None:
        for target, backup in reversed(self.done):
            target.unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, target)
        self.done = []
