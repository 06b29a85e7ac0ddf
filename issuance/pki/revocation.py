"""Revocations (recorded in the database with RFC 5280 §5.3.1 reason codes) and the CAs' CRLs."""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance import audit
from issuance.db import Database
from issuance.keystore import Keystore
from issuance.models import Revocation, RevocationReason
from issuance.pki.ceremony import Admins, ceremony
from issuance.pki.profiles import PkiInputError, Role
from issuance.pki.signers import count_use
from issuance.pki.signing import Revoked, sign_crl
from issuance.pki.store import PkiDirectory

# RFC 5280 §5.3.1 CRLReason values.
REASON_CODES = {
    RevocationReason.UNSPECIFIED: 0, RevocationReason.KEY_COMPROMISE: 1, RevocationReason.CA_COMPROMISE: 2,
    RevocationReason.AFFILIATION_CHANGED: 3, RevocationReason.SUPERSEDED: 4,
    RevocationReason.CESSATION_OF_OPERATION: 5, RevocationReason.CERTIFICATE_HOLD: 6,
    RevocationReason.PRIVILEGE_WITHDRAWN: 9, RevocationReason.AA_COMPROMISE: 10,
}
CA_ROLES = (Role.CSCA, Role.ISSUING_CA)
_SERIAL = re.compile(r"^[0-9A-F]{1,40}$")
# A CRL is reissued at least weekly; relying parties may cache it until then.
CRL_LIFETIME = dt.timedelta(days=7)


def normalise_serial(serial: str) -> str:
    """A certificate serial as upper-case hex without leading zeros (RFC 5280 §4.1.2.2: at most 20 octets)."""
    text = serial.strip().upper().removeprefix("0X").replace(":", "")
    if not _SERIAL.match(text) or int(text, 16) == 0:
        raise PkiInputError(f"serial: {serial!r} is not a certificate serial (1-40 hex digits, not zero)")
    return format(int(text, 16), "X")


def revoke(session: Session, issuer: Role, serial: str, reason: RevocationReason, actor: str,
           site: str = "") -> Revocation:
    """Record that the CA `issuer` revoked `serial`; the CA's next CRL lists it."""
    if issuer not in CA_ROLES:
        raise PkiInputError(f"issuer: must be one of {[r.value for r in CA_ROLES]}, got {issuer.value!r}")
    serial = normalise_serial(serial)
    found = session.scalar(select(Revocation).where(Revocation.issuer == issuer.value,
                                                    Revocation.serial == serial))
    if found is not None:
        raise PkiInputError(f"serial: {serial} was revoked already ({found.reason})")
    row = Revocation(issuer=issuer.value, serial=serial, reason=reason, actor=actor)
    session.add(row)
    session.flush()
    audit.record(session, audit.Entry(actor, "pki.certificate_revoked", "certificate", serial, site=site,
                                      details={"issuer": issuer.value, "reason": reason.value}))
    return row


def _revoked(session: Session, issuer: Role) -> list[Revoked]:
    rows = session.scalars(select(Revocation).where(Revocation.issuer == issuer.value)
                           .order_by(Revocation.id))
    return [Revoked(int(r.serial, 16), r.revoked_at, REASON_CODES[r.reason]) for r in rows]


def issue_crls(db: Database, keystore: Keystore, directory: PkiDirectory, admins: Admins, site: str = "",
               now: dt.datetime | None = None) -> dict[str, x509.CertificateRevocationList]:
    """Sign a fresh CRL for the CSCA and for the signature CA, numbered one above the last."""
    index = directory.load()
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    crls = {}
    with ceremony(db, keystore, directory, admins, site) as work:
        for role in CA_ROLES:
            record = index.current(role)
            number = index.crl_numbers.get(role.value, 0) + 1
            crl = sign_crl(keystore, record.label, directory.certificate(record.label), number,
                           _revoked(work.session, role), now, now + CRL_LIFETIME)
            count_use(work.session, record.label)
            index.crl_numbers[role.value] = number
            work.staging.crl(role.value, crl)
            work.note("pki.crl_issued", record.label, role=role.value, number=str(number),
                      revoked=str(len(list(crl))))
            crls[role.value] = crl
        work.staging.index = index
    return crls
