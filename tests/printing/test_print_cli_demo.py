"""`issuance print reprint/approve/qc` on the command line, and the demo's print step."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.demo.printing import print_demo_cards
from issuance.models import Batch, Card, ReprintRequest, ReprintState, Role, User
from issuance.runtime import Runtime
from tests.factories import TEST_PASSWORD, make_user
from tests.printing.print_cards import add_folder_printer, card_state, make_card, with_pki
from workers import print_stage


def _cli(rt: Runtime, *args: str) -> tuple[int, str]:
    s = rt.settings
    env = {"ISSUANCE_DATABASE_URL": s.database_url, "ISSUANCE_DATA_DIR": str(s.data_dir),
           "ISSUANCE_KEYSTORE_PASSPHRASE": s.keystore_passphrase, "ISSUANCE_KEYSTORE_PATH": s.keystore_path,
           "ISSUANCE_PASSWORD": TEST_PASSWORD}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _number(db: Database, card_id: int) -> str:
    with db.session() as s:
        return str(s.get_one(Card, card_id).document_number)


def _application(db: Database, card_id: int) -> str:
    with db.session() as s:
        return str(s.get_one(Card, card_id).application.number)


def test_qc_of_a_scan_and_reprint_on_the_command_line(db: Database, prt: Runtime, clerk: User,
                                                      tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    tools = print_stage.print_tools(prt)
    good, other = make_card(db, prt, clerk, seed=21), make_card(db, prt, clerk, seed=22)
    for card_id in (good, other):
        assert print_stage.print_one(prt, tools, card_id).step == "printed"
    backs = {c: tmp_path / "cards" / _application(db, c) / "back.png" for c in (good, other)}
    code, out = _cli(prt, "print", "qc", _number(db, good), "--scan", str(backs[good]))
    assert code == 0, out
    assert card_state(db, good) == ("printed", "quality_checked")
    # The back of another card: the MRZ and the seal disagree with this card's DG1.
    code, out = _cli(prt, "print", "qc", _number(db, other), "--scan", str(backs[good]), "--by", "scanner")
    assert code == 1 and "FAILED" in out, out
    assert card_state(db, other) == ("printed", "printed")
    with db.session() as s:
        request = s.scalars(select(ReprintRequest).where(ReprintRequest.card_id == other)).one()
        assert request.state == ReprintState.REQUESTED and request.requested_by == "scanner"
        assert "MRZ line 1" in request.reason
    make_user(db, "boss", Role.SUPERVISOR)
    make_user(db, "other", Role.SUPERVISOR)
    code, out = _cli(prt, "print", "reprint", _number(db, good), "--reason", "", "--by", "boss")
    assert code == 2 and "reason" in out
    code, out = _cli(prt, "print", "reprint", _number(db, good), "--reason", "card bent", "--by", "boss")
    assert code == 0, out
    code, out = _cli(prt, "print", "approve", _number(db, good), "--by", "boss")
    assert code == 2 and "cannot also approve" in out
    code, out = _cli(prt, "print", "approve", _number(db, good), "--by", "other")
    assert code == 0, out
    code, out = _cli(prt, "print", "status", _number(db, good))
    assert "approved by other" in out and "attempt 1" in out


def test_demo_prints_every_locked_card_of_the_batch(db: Database, settings: Settings, clerk: User,
                                                    pki_template: Path) -> None:
    out_dir = settings.data_dir
    with_pki(settings, pki_template)  # OUT/pki as the demo leaves it
    printer_id = add_folder_printer(db, out_dir / "cards")
    with db.transaction() as s:
        batch = Batch(number="HQ-B000001", site="HQ", printer_id=printer_id, created_by="test")
        s.add(batch)
        s.flush()
        batch_id = batch.id
    rt = Runtime(settings)  # the demo's own runtime: no keystore passphrase in its settings
    try:
        cards = [make_card(db, rt, clerk, seed=30 + n, batch_id=batch_id) for n in range(2)]
        outside = make_card(db, rt, clerk, seed=40)  # locked, but not in the batch
        result = print_demo_cards(rt, out_dir, "HQ-B000001")
    finally:
        rt.close()
    assert (result.printed, result.quality_checked) == (2, 2)
    assert card_state(db, outside) == ("locked", "personalized")
    numbers = sorted(_application(db, c) for c in cards)
    for number in numbers:
        written = {p.name for p in (out_dir / "cards" / number).iterdir()}
        assert {"front.png", "back.png", "card.pdf"} <= written
    folder = out_dir / "batches" / "HQ-B000001"
    assert len(PdfReader(folder / "proof.pdf").pages) == 1
    assert PdfReader(folder / "manifest.pdf").pages
    rows = list(csv.DictReader(io.StringIO((folder / "manifest.csv").read_text("utf-8"))))
    assert sorted(r["application_number"] for r in rows) == numbers
    assert {r["state"] for r in rows} == {"printed"}
