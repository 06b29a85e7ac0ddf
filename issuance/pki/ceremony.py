"""Key ceremonies: create the issuer's PKI, rotate and retire signers, create SCP03 master keys.

Every key generation, certificate, rotation and retirement is audited with the acting admin (and a
witness for the CSCA), the key's label and its public-key fingerprint, never key material. A ceremony
is all or nothing: if any step fails, its new keys are destroyed, its files removed again and its
transaction rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.db import Database
from issuance.keystore import KeyKind, Keystore, fingerprint
from issuance.models import Role as UserRole
from issuance.models import User
from issuance.pki.masterlist import master_list
from issuance.pki.profiles import PROFILES, PkiInputError, Profile, Role, builder, country_code, subject
from issuance.pki.signers import count_use
from issuance.pki.signing import sign_certificate
from issuance.pki.store import Index, Moved, PkiDirectory, Staging, Status, key_record

ENTITY = "pki_key"


@dataclass(frozen=True)
class Admins:
    """Who performs a ceremony: the acting admin and, for the CSCA, a second admin as witness.

    `accounts` says whether both must be active admin accounts of the database (the CLI); the
    embedded demo, which has no accounts yet on its first run, names its own actors.
    """

    actor: str
    witness: str = ""
    accounts: bool = True

    def __post_init__(self) -> None:
        if not self.actor:
            raise PkiInputError("admin: name the admin performing the ceremony (--admin)")
        if self.witness == self.actor:
            raise PkiInputError("admin: the two admins of a CSCA ceremony must be different people")

    def check(self, session: Session, csca: bool = False) -> None:
        if csca and not self.witness:
            raise PkiInputError("admin: a CSCA ceremony needs two admins (--admin twice)")
        if not self.accounts:
            return
        for name in filter(None, (self.actor, self.witness)):
            user = session.scalar(select(User).where(User.username == name))
            if user is None or not user.active or user.role != UserRole.ADMIN:
                raise PkiInputError(f"admin: {name!r} is not an active admin account")


@dataclass
class Ceremony:
    """One ceremony's work: keys made (destroyed if it fails), files staged, audit entries."""

    keystore: Keystore
    admins: Admins
    session: Session
    staging: Staging
    site: str = ""
    created: list[str] = field(default_factory=list)
    entries: list[audit.Entry] = field(default_factory=list)

    def note(self, action: str, label: str, **details: str) -> None:
        if self.admins.witness:
            details = {**details, "witness": self.admins.witness}
        self.entries.append(audit.Entry(self.admins.actor, action, ENTITY, label, site=self.site,
                                        details=details))

    def generate(self, label: str, kind: KeyKind, role: str) -> None:
        if kind is KeyKind.RSA3072:
            self.keystore.generate_rsa3072(label)
        elif kind is KeyKind.EC_P256:
            self.keystore.generate_ec_p256(label)
        else:
            self.keystore.generate_aes(label, 256 if kind is KeyKind.AES256 else 128)
        self.created.append(label)
        if kind in (KeyKind.RSA3072, KeyKind.EC_P256):
            public = fingerprint(self.keystore.public_key(label))
            self.note("pki.key_generated", label, role=role, kind=kind.value, fingerprint=public)
        else:
            self.note("pki.master_key_generated", label, kind=kind.value,
                      check_value=check_value(self.keystore, label))

    def certify(self, index: Index, profile: Profile, label: str, issuer: tuple[str, x509.Certificate] | None,
                now: dt.datetime) -> x509.Certificate:
        """Generate the role's key and certify it by `issuer` (label, certificate), or self-sign."""
        self.generate(label, profile.kind, profile.role.value)
        public = self.keystore.public_key(label)
        name = subject(index.state, index.organization, f"{index.state} {profile.title}")
        issuer_label, issuer_name = (issuer[0], issuer[1].subject) if issuer else (label, name)
        unsigned = builder(profile, name, issuer_name, public, self.keystore.public_key(issuer_label), now)
        cert = sign_certificate(unsigned, self.keystore, issuer_label)
        count_use(self.session, issuer_label)
        self.staging.certificate(label, cert)
        index.keys.append(key_record(label, profile.role, cert))
        self.note("pki.certificate_issued", label, role=profile.role.value, issuer=issuer_label,
                  serial=format(cert.serial_number, "X"), fingerprint=fingerprint(public),
                  not_after=cert.not_valid_after_utc.isoformat())
        return cert

    def undo(self) -> None:
        for label in reversed(self.created):
            self.keystore.destroy(label)


@contextmanager
def ceremony(db: Database, keystore: Keystore, directory: PkiDirectory, admins: Admins,
             site: str = "", csca: bool = False) -> Iterator[Ceremony]:
    """One transaction, one staging folder: audit and files land together, or nothing does."""
    staging = directory.staging()
    moved: Moved | None = None
    try:
        with db.transaction() as session:
            admins.check(session, csca)
            work = Ceremony(keystore, admins, session, staging, site)
            try:
                yield work
                audit.record_many(session, work.entries)
                session.flush()
                moved = staging.commit(directory.root)
            except BaseException:
                work.undo()
                raise
    except BaseException:
        if moved is not None:  # the commit itself failed after the files moved in
            moved.undo()
        raise
    finally:
        staging.discard()


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)


def init_pki(db: Database, keystore: Keystore, directory: PkiDirectory, state: str, organization: str,
             admins: Admins, site: str = "", now: dt.datetime | None = None) -> Index:
    """Create the CSCA with a Document Signer, Master List Signer and seal signer under it, and the
    holders' signature CA (ICAO 9303-12 §5, 9303-13). All or nothing."""
    country_code(state)
    if not 1 <= len(organization.strip()) <= 64:
        raise PkiInputError("organization: must be 1 to 64 characters (RFC 5280 ub-organization-name)")
    if directory.exists:
        raise PkiInputError(f"state: a PKI exists already in {directory.root}")
    now, index = _now(now), Index(state.upper(), organization.strip())
    with ceremony(db, keystore, directory, admins, site, csca=True) as work:
        csca = work.certify(index, PROFILES[Role.CSCA], "csca-1", None, now)
        work.staging.certificate(Role.CSCA.value, csca)
        signers = {}
        for role in (Role.DS, Role.MASTER_LIST_SIGNER, Role.SEAL):
            signers[role] = work.certify(index, PROFILES[role], f"{role.value}-1", ("csca-1", csca), now)
            work.staging.certificate(role.value, signers[role])
        ca = work.certify(index, PROFILES[Role.ISSUING_CA], "issuing-ca-1", None, now)
        work.staging.certificate(Role.ISSUING_CA.value, ca)
        mls = signers[Role.MASTER_LIST_SIGNER]
        work.staging.write("masterlist.ml", master_list(keystore, "mls-1", mls, [csca]))
        count_use(work.session, "mls-1")
        work.staging.index = index
    return index


def rotate_ds(db: Database, keystore: Keystore, directory: PkiDirectory, admins: Admins,
              retire_old: bool = False, site: str = "", now: dt.datetime | None = None) -> str:
    """Start a new Document Signer; the old one signs no new cards, and its cards still verify."""
    index = directory.load()
    old, csca = index.current(Role.DS), index.current(Role.CSCA)
    label = index.next_label(Role.DS)
    with ceremony(db, keystore, directory, admins, site) as work:
        cert = work.certify(index, PROFILES[Role.DS], label, (csca.label, directory.certificate(csca.label)),
                            _now(now))
        work.staging.certificate(Role.DS.value, cert)
        index.set_status(old.label, Status.SUPERSEDED)
        work.note("pki.key_superseded", old.label, role=Role.DS.value, by=label)
        if retire_old:
            _retire(work, index, old.label)
        work.staging.index = index
    return label


def _retire(work: Ceremony, index: Index, label: str) -> None:
    record = index.record(label)
    if record.status == Status.ACTIVE:
        raise PkiInputError(f"label: {label!r} is the active {record.role}; rotate it first")
    index.set_status(label, Status.RETIRED)
    work.keystore.retire(label)
    work.note("pki.key_retired", label, role=record.role, fingerprint=record.fingerprint)


def retire(db: Database, keystore: Keystore, directory: PkiDirectory, label: str, admins: Admins,
           site: str = "") -> None:
    """Stop a superseded key from signing; it stays in the keystore until its documents expire."""
    index = directory.load()
    with ceremony(db, keystore, directory, admins, site) as work:
        _retire(work, index, label)
        work.staging.index = index


def issue_master_key(db: Database, keystore: Keystore, directory: PkiDirectory, label: str, bits: int,
                     admins: Admins, site: str = "") -> str:
    """Create an issuer SCP03 master key (GPC Amd D §4.1.5) in the keystore; return its check value."""
    kind = {128: KeyKind.AES128, 256: KeyKind.AES256}.get(bits)
    if kind is None:
        raise PkiInputError(f"bits: an SCP03 master key is 128 or 256 bits, got {bits}")
    with ceremony(db, keystore, directory, admins, site) as work:
        work.generate(label, kind, "scp03-master")
    return check_value(keystore, label)


def check_value(keystore: Keystore, label: str) -> str:
    """A 3-byte check value of an AES key: the CMAC of a zero block, computed inside the keystore."""
    return keystore.cmac(label, [bytes(16)])[0][:3].hex().upper()
