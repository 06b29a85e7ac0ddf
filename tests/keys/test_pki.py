"""`issuance pki` on both keystores and both databases, checked with the openssl command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from issuance import audit
from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.keystore import KeyRetired, SoftwareKeystore, fingerprint, open_keystore
from issuance.models import AuditEvent, Revocation
from issuance.models import Role as UserRole
from issuance.pki import pki_folder
from issuance.pki.bootstrap import ensure_pki
from issuance.pki.profiles import Role
from issuance.pki.signers import HolderName, current_signer, issue_holder_certificate, sign_document
from issuance.pki.store import PkiDirectory
from issuance.runtime import audit_anchor
from printing.samples import sample_face
from printing.seal import SealError, make_seal, verify_seal
from tests.factories import make_user
from tests.keys.conftest import ADMINS, env_of

INIT = ["pki", "init", "--state", "UTO", "--admin", ADMINS[0], "--admin", ADMINS[1]]


def run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env_of(settings))


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)


def _events(settings: Settings, action: str) -> list[AuditEvent]:
    db = Database(settings.database_url, audit_anchor(settings))
    with db.session() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
    db.dispose()
    return rows


def test_init_makes_an_icao_hierarchy_openssl_accepts_and_audits_it(pki_settings: Settings) -> None:
    result = run(pki_settings, *INIT)
    assert result.exit_code == 0, result.output
    pki = pki_folder(pki_settings)
    verify = openssl("verify", "-CAfile", str(pki / "csca.pem"), str(pki / "ds.pem"), str(pki / "seal.pem"),
                     str(pki / "mls.pem"))
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.count(": OK") == 3
    ca = openssl("verify", "-CAfile", str(pki / "issuing-ca.pem"), str(pki / "issuing-ca.pem"))
    assert ca.returncode == 0, ca.stderr

    csca = openssl("x509", "-in", str(pki / "csca.pem"), "-noout", "-text").stdout
    assert "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign" in csca
    assert "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0" in csca
    assert "Subject: C=UT, O=Civil ID Authority, CN=UTO CSCA" in csca.replace(" = ", "=")
    assert "Private Key Usage Period" in csca and "rsassaPss" in csca
    ds = openssl("x509", "-in", str(pki / "ds.pem"), "-noout", "-text").stdout
    assert "X509v3 Key Usage: critical\n                Digital Signature" in ds
    assert "Issuer: C=UT, O=Civil ID Authority, CN=UTO CSCA" in ds.replace(" = ", "=")
    assert "2.23.136.1.1.6.2" in ds and "Basic Constraints" not in ds
    assert "X509v3 Authority Key Identifier" in ds and "Private Key Usage Period" in ds
    mls = openssl("x509", "-in", str(pki / "mls.pem"), "-noout", "-text").stdout
    assert "2.23.136.1.1.3" in mls  # ICAO master list signing key (extended key usage)

    listed = openssl("cms", "-verify", "-inform", "DER", "-in", str(pki / "masterlist.ml"),
                     "-CAfile", str(pki / "csca.pem"), "-purpose", "any", "-out", "/dev/null")
    assert listed.returncode == 0 and "Verification successful" in listed.stderr
    der = openssl("x509", "-inform", "DER", "-in", str(pki / "ds.der"), "-noout", "-serial").stdout
    serial = x509.load_pem_x509_certificate((pki / "ds.pem").read_bytes()).serial_number
    assert der.strip() == f"serial={serial:X}"
    _assert_ceremony_audited(pki_settings)


def _assert_ceremony_audited(pki_settings: Settings) -> None:
    generated = _events(pki_settings, "pki.key_generated")
    assert [e.entity_id for e in generated] == ["csca-1", "ds-1", "mls-1", "seal-1", "issuing-ca-1"]
    with open_keystore(pki_settings) as store:
        for event in generated:
            details = json.loads(event.details)
            assert event.actor == ADMINS[0] and details["witness"] == ADMINS[1]
            assert details["fingerprint"] == fingerprint(store.public_key(event.entity_id))
            assert set(details) == {"role", "kind", "fingerprint", "witness"}
    issued = _events(pki_settings, "pki.certificate_issued")
    assert len(issued) == 5
    db = Database(pki_settings.database_url, audit_anchor(pki_settings))
    with db.session() as s:
        assert audit.verify(s).ok
    db.dispose()


def test_csca_ceremony_needs_two_admin_accounts(pki_settings: Settings) -> None:
    db = Database(pki_settings.database_url, audit_anchor(pki_settings))
    make_user(db, "carol", UserRole.SUPERVISOR)
    db.dispose()
    for admins, message in [
        (["--admin", "alice"], "needs two admins"),
        (["--admin", "alice", "--admin", "alice"], "different people"),
        (["--admin", "alice", "--admin", "carol"], "'carol' is not an active admin account"),
        (["--admin", "alice", "--admin", "mallory"], "'mallory' is not an active admin account"),
    ]:
        result = run(pki_settings, "pki", "init", "--state", "UTO", *admins)
        assert result.exit_code == 1 and message in result.output
        assert len(result.output.strip().splitlines()) == 1
        _assert_nothing_created(pki_settings)


def _assert_nothing_created(settings: Settings, keep: frozenset[str] = frozenset()) -> None:
    pki = pki_folder(settings)
    assert not pki.exists() or [p.name for p in pki.iterdir()] == []
    if settings.keystore == "software" and not settings.effective_keystore_path.exists():
        return
    with open_keystore(settings) as store:
        assert {k.label for k in store.list_keys()} == keep
    assert _events(settings, "pki.key_generated") == []


def test_failed_init_leaves_no_partial_hierarchy(pki_settings: Settings) -> None:
    # A key already holding the seal signer's label makes the ceremony fail half-way through.
    with open_keystore(pki_settings, create=True) as store:
        store.generate_aes("seal-1")
    result = run(pki_settings, *INIT)
    assert result.exit_code == 1 and "'seal-1' exists already" in result.output
    _assert_nothing_created(pki_settings, keep=frozenset({"seal-1"}))


def test_bad_state_and_second_init_are_refused(pki_settings: Settings) -> None:
    bad = run(pki_settings, "pki", "init", "--state", "XX1", "--admin", "alice", "--admin", "bob")
    assert bad.exit_code == 1 and "state: 'XX1' is not an ICAO 9303-3 issuing state code" in bad.output
    assert run(pki_settings, *INIT).exit_code == 0
    again = run(pki_settings, *INIT)
    assert again.exit_code == 1 and "a PKI exists already" in again.output


def test_rotate_ds_keeps_old_cards_verifiable_and_retires(pki_settings: Settings) -> None:
    assert run(pki_settings, *INIT).exit_code == 0
    pki = pki_folder(pki_settings)
    directory = PkiDirectory(pki)
    db = Database(pki_settings.database_url, audit_anchor(pki_settings))
    with open_keystore(pki_settings) as store, db.transaction() as s:
        old_signature, old_cert = sign_document(s, store, directory, Role.DS, b"EF.SOD of card 1")
    assert old_cert.subject == x509.load_pem_x509_certificate((pki / "ds-1.pem").read_bytes()).subject

    rotated = run(pki_settings, "pki", "rotate-ds", "--admin", "alice")
    assert rotated.exit_code == 0 and "new document signer ds-2" in rotated.output
    assert (pki / "ds.pem").read_bytes() == (pki / "ds-2.pem").read_bytes()
    for name in ("ds-1.pem", "ds-2.pem"):
        assert openssl("verify", "-CAfile", str(pki / "csca.pem"), str(pki / name)).returncode == 0
    old_cert.public_key().verify(old_signature, b"EF.SOD of card 1", ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg, union-attr]
    with open_keystore(pki_settings) as store, db.transaction() as s:
        _, new_cert = sign_document(s, store, directory, Role.DS, b"EF.SOD of card 2")
    assert new_cert.serial_number != old_cert.serial_number

    retired = run(pki_settings, "pki", "retire", "ds-1", "--admin", "bob")
    assert retired.exit_code == 0, retired.output
    with open_keystore(pki_settings) as store:
        with pytest.raises(KeyRetired):
            store.sign("ds-1", b"another card")
        assert store.info("ds-1").retired  # kept, not destroyed
    refused = run(pki_settings, "pki", "retire", "ds-2", "--admin", "bob")
    assert refused.exit_code == 1 and "active ds; rotate it first" in refused.output
    status = run(pki_settings, "pki", "status")
    assert status.exit_code == 0
    lines = {line.split()[0]: line for line in status.output.splitlines() if line.startswith("ds-")}
    assert "retired" in lines["ds-1"] and lines["ds-1"].split()[-1] == "1"
    assert "active" in lines["ds-2"] and lines["ds-2"].split()[-1] == "1"
    assert [e.entity_id for e in _events(pki_settings, "pki.key_retired")] == ["ds-1"]
    db.dispose()


def test_revocation_is_listed_in_the_crl(pki_settings: Settings, tmp_path: Path) -> None:
    assert run(pki_settings, *INIT).exit_code == 0
    pki = pki_folder(pki_settings)
    db = Database(pki_settings.database_url, audit_anchor(pki_settings))
    holder_key = ec.generate_private_key(ec.SECP256R1())
    with open_keystore(pki_settings) as store, db.transaction() as s:
        holder_name = HolderName("Peter Stevenson", "D23145890")
        cert = issue_holder_certificate(s, store, PkiDirectory(pki), holder_name, holder_key.public_key())
    holder = tmp_path / "holder.pem"
    holder.write_bytes(cert.public_bytes(Encoding.PEM))
    assert openssl("verify", "-CAfile", str(pki / "issuing-ca.pem"), str(holder)).returncode == 0
    text = openssl("x509", "-in", str(holder), "-noout", "-text").stdout
    assert "Digital Signature, Non Repudiation" in text
    assert "serialNumber=D23145890" in text.replace(" = ", "=")

    serial = format(cert.serial_number, "X")
    revoked = run(pki_settings, "pki", "revoke", serial.lower(), "--reason", "keyCompromise",
                  "--admin", "alice")
    assert revoked.exit_code == 0, revoked.output
    twice = run(pki_settings, "pki", "revoke", serial, "--reason", "superseded", "--admin", "alice")
    assert twice.exit_code == 1 and "revoked already" in twice.output
    with db.session() as s:
        row = s.scalars(select(Revocation)).one()
        assert (row.issuer, row.serial, row.reason) == ("issuing-ca", serial, "keyCompromise")
        assert row.actor == "alice"

    for number in (1, 2):
        issued = run(pki_settings, "pki", "crl", "--admin", "alice")
        assert issued.exit_code == 0, issued.output
        assert f"number {number}, 1 revoked" in issued.output
    listing = openssl("crl", "-in", str(pki / "issuing-ca.crl"), "-inform", "DER", "-noout", "-text").stdout
    assert f"Serial Number: {serial}" in listing and "Key Compromise" in listing
    assert "X509v3 CRL Number: \n                2" in listing
    checked = openssl("verify", "-crl_check", "-CAfile", str(pki / "issuing-ca.pem"),
                      "-CRLfile", str(pki / "issuing-ca.crl.pem"), str(holder))
    assert checked.returncode != 0 and "certificate revoked" in checked.stdout + checked.stderr
    csca_crl = openssl("crl", "-in", str(pki / "csca.crl"), "-inform", "DER",
                       "-CAfile", str(pki / "csca.pem"), "-noout")
    assert "verify OK" in csca_crl.stdout + csca_crl.stderr
    empty = openssl("crl", "-in", str(pki / "csca.crl.pem"), "-noout", "-text").stdout
    assert "No Revoked Certificates" in empty
    db.dispose()


def test_revoke_rejects_bad_serials(pki_settings: Settings) -> None:
    for serial in ["", "0", "xyz", "1" * 41, "5G", "12 34"]:
        result = run(pki_settings, "pki", "revoke", serial, "--reason", "keyCompromise", "--admin", "alice")
        assert result.exit_code == 1 and "serial:" in result.output


def test_status_shows_master_keys_and_warnings(pki_settings: Settings) -> None:
    assert run(pki_settings, *INIT).exit_code == 0
    made = run(pki_settings, "pki", "issue-master-key", "--label", "scp03-master-1", "--admin", "alice")
    assert made.exit_code == 0 and "check value" in made.output
    events = _events(pki_settings, "pki.master_key_generated")
    assert len(events) == 1 and json.loads(events[0].details)["check_value"] in made.output
    status = run(pki_settings, "pki", "status", "--within-days", "100")
    assert status.exit_code == 0, status.output
    assert "scp03-master" in status.output and "aes-128" in status.output
    # A DS key signs for 90 days (ICAO 9303-12 §5.3), so a 100-day horizon warns about it.
    assert "warning: key usage period ends in 89 days: rotate it" in status.output
    assert "ds-1" in status.output and "csca-1" in status.output and "rsa-3072" in status.output
    csca_line = next(line for line in status.output.splitlines() if line.startswith("csca-1 "))
    assert csca_line.split()[-1] == "4"  # it certified itself, the DS, the master list and seal signers
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert all(today in line for line in status.output.splitlines()[1:] if not line.startswith("  "))
    quiet = run(pki_settings, "pki", "status")
    assert "warning" not in quiet.output


@pytest.mark.parametrize("keystore_kind", ["software"])
def test_wrong_passphrase_is_one_line_and_creates_nothing(pki_settings: Settings) -> None:
    assert run(pki_settings, "pki", "issue-master-key", "--admin", "alice").exit_code == 0
    env = {**env_of(pki_settings), "ISSUANCE_KEYSTORE_PASSPHRASE": "nope"}
    wrong = CliRunner().invoke(main, INIT, env=env)
    assert wrong.exit_code == 1
    path = pki_settings.effective_keystore_path
    assert wrong.output.strip().splitlines() == [
        f"Error: software keystore {path}: wrong passphrase (or the file was altered)"]
    assert not (pki_folder(pki_settings) / "index.json").exists()


@pytest.mark.parametrize("keystore_kind", ["pkcs11"])
def test_token_errors_are_one_line_and_create_nothing(pki_settings: Settings) -> None:
    for change, message in [
        ({"ISSUANCE_PKCS11_TOKEN": "absent"}, "Error: PKCS#11 token 'absent': token not found"),
        ({"ISSUANCE_PKCS11_PIN": "000000"}, "Error: PKCS#11 token 'issuance-test': wrong PIN"),
        ({"ISSUANCE_PKCS11_TOKEN": "issuance-locked"}, "Error: PKCS#11 token 'issuance-locked': PIN locked"),
    ]:
        result = CliRunner().invoke(main, INIT, env={**env_of(pki_settings), **change})
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
        assert result.output.startswith(message)
        _assert_nothing_created(pki_settings)


def test_embedded_default_is_created_once_and_reused(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path)
    db = Database(database_url, audit_anchor(settings))
    first = ensure_pki(tmp_path, settings, db)
    csca = (first.root / "csca.pem").read_bytes()
    assert (tmp_path / "pki" / "csca.pem").is_file()
    assert (tmp_path / "pki" / "keystore.json").stat().st_mode & 0o777 == 0o600
    again = ensure_pki(tmp_path, settings, db)
    assert (again.root / "csca.pem").read_bytes() == csca
    passphrase = (tmp_path / "pki" / "keystore.passphrase").read_text().strip()
    labels = {k.label for k in SoftwareKeystore(tmp_path / "pki" / "keystore.json", passphrase).list_keys()}
    assert labels == {"csca-1", "ds-1", "mls-1", "seal-1", "issuing-ca-1"}
    db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_printed_seal_signed_by_the_pki_seal_signer_verifies(pki_settings: Settings) -> None:
    """ICAO 9303-13: the printing stage's seal, signed in the keystore, checks out to the CSCA."""
    assert run(pki_settings, *INIT).exit_code == 0
    directory = PkiDirectory(pki_folder(pki_settings))
    with open_keystore(pki_settings) as store:
        signer = current_signer(store, directory, Role.SEAL)
        seal = make_seal(sample_face(), signer, "UTO")
    verified = verify_seal(seal, [directory.certificate("csca")], [directory.certificate("seal")])
    assert verified.header.certificate_reference == format(signer.certificate.serial_number, "X")
    tampered = bytearray(seal)
    tampered[12] ^= 0x01
    with pytest.raises(SealError):
        verify_seal(bytes(tampered), [directory.certificate("csca")], [directory.certificate("seal")])
