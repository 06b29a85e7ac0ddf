"""Acceptance: a card personalized end to end and revoked with the CLI is on the CRL `pki crl` writes.

The holder certificate's serial is recorded when the station finishes the card; the whole life after
printing runs through `issuance cards ...`, and the CRL is read back with the openssl command.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner, Result
from cryptography import x509
from sqlalchemy import select

from issuance.cli.main import main
from issuance.models import Application, Card, Revocation, Role
from issuance.pki import pki_folder
from tests.factories import TEST_PASSWORD, make_user
from tests.keys.conftest import quick_scrypt  # noqa: F401  (fixture)
from tests.lifecycle.conftest import signature_png
from tests.station.conftest import (  # noqa: F401  (fixtures)
    Stage,
    batched_applications,
    card_rows,
    keystore_kind,
    printed_by_moves,
    stage,
    stage_settings,
    station_env,
)
from workers.personalization import enqueue_personalization


def _cli(stage: Stage, *args: str) -> Result:  # noqa: F811
    env = {**station_env(stage.rt.settings), "ISSUANCE_PASSWORD": TEST_PASSWORD}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def _personalized_and_printed(stage: Stage, tmp_path: Path) -> Card:  # noqa: F811
    [app_id] = batched_applications(stage.rt, 1)
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    stats = stage.station(stage.stock(tmp_path / "stock", [1])).loop.run()
    assert stats.personalized == 1
    [card] = card_rows(stage.rt, app_id)
    printed_by_moves(stage.rt, card.id)
    [card] = card_rows(stage.rt, app_id)
    return card


def _openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_revoked_cards_holder_certificate_is_on_the_published_crl(stage: Stage,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    card = _personalized_and_printed(stage, tmp_path)
    serial = card.holder_cert_serial
    assert serial and int(serial, 16) > 0 and serial == serial.upper()
    for name, role in (("sup1", Role.SUPERVISOR), ("alice", Role.ADMIN)):
        make_user(stage.rt.db, name, role)
    with stage.rt.db.session() as s:
        receipt = str(s.get_one(Application, card.application_id).number)
    doc = str(card.document_number)
    signature = tmp_path / "signature.png"
    signature.write_bytes(signature_png())

    _cli(stage, "cards", "dispatch", doc, "--office", "HQ", "--as", "sup1")
    _cli(stage, "cards", "hand-over", "--receipt", receipt, "--document-kind", "passport",
         "--document-number", "P7654321", "--signature", str(signature), "--as", "sup1")
    _cli(stage, "cards", "activate", doc, "--as", "sup1")
    revoked = _cli(stage, "cards", "revoke", doc, "--cause", "stolen", "--note", "police report 42",
                   "--as", "sup1")
    assert f"holder certificate {serial}" in revoked.output
    with stage.rt.db.session() as s:
        assert s.scalars(select(Revocation.serial)).all() == [serial]
    published = _cli(stage, "pki", "crl", "--admin", "alice")
    assert "issuing-ca.crl: number 1, 1 revoked" in published.output

    pki = pki_folder(stage.rt.settings)
    listing = _openssl("crl", "-inform", "DER", "-in", str(pki / "issuing-ca.crl"), "-text", "-noout")
    assert f"Serial Number: {serial}" in listing and "Key Compromise" in listing
    pem = _openssl("crl", "-inform", "PEM", "-in", str(pki / "issuing-ca.crl.pem"), "-text", "-noout")
    assert f"Serial Number: {serial}" in pem
    assert "verify OK" in _openssl("crl", "-inform", "DER", "-in", str(pki / "issuing-ca.crl"), "-noout",
                                   "-CAfile", str(pki / "issuing-ca.pem"))
    crl = x509.load_der_x509_crl((pki / "issuing-ca.crl").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    [card] = card_rows(stage.rt, card.application_id)
    assert (card.state, card.status_reason) == ("revoked", "stolen: police report 42")
    shown = _cli(stage, "cards", "show", doc, "--as", "sup1").output
    for step in ("application.dispatched", "card.issued", "card.active", "card.revoked",
                 "pki.certificate_revoked"):
        assert step in shown
