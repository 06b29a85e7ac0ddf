"""The print service end to end on both printers, and the batch proof sheet and manifest."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from printing.arabic_text import visual_order
from printing.card_face import CardFace
from printing.design import Design
from printing.proofs import BatchInfo, ManifestRow, ProofCard
from printing.render import RenderedCard
from printing.samples import sample_face
from printing.service import (
    BatchCard,
    Decision,
    Step,
    check_printed,
    next_step,
    print_batch,
    print_card,
    write_batch_documents,
)
from printing.spool.base import JobState, JobStatus
from printing.spool.cups import CupsSpooler
from printing.spool.folder import FolderSpooler
from tests.printing.conftest import SealPki
from tests.printing.cups_server import CupsServer

INFO = BatchInfo("B-2026-0001", "folder:spool", "operator.one", datetime(2026, 11, 28, 9, 30))


def test_print_card_on_the_folder_printer(tmp_path: Path, face: CardFace, design: Design,
                                          pki: SealPki) -> None:
    spooler = FolderSpooler(tmp_path / "cards")
    outcome = print_card(face, job_name="APP-000042", design=design, signer=pki.signer, spooler=spooler,
                         issuing_country="UTO")
    assert outcome.status.state == JobState.COMPLETED
    folder = tmp_path / "cards" / "APP-000042"
    assert sorted(p.name for p in folder.iterdir()) == ["back-k.png", "back.png", "card.pdf",
                                                      "front-k.png", "front.png"]
    assert len(PdfReader(folder / "card.pdf").pages) == 2
    report = check_printed(outcome, face, design, [pki.csca], [pki.signer.certificate])
    assert report.passed, report.problems


def test_print_card_through_cups(cups: CupsServer, face: CardFace, design: Design, pki: SealPki) -> None:
    queue = cups.add_pdf_printer("service-printer")
    outcome = print_card(face, job_name="APP-000043", design=design, signer=pki.signer,
                         spooler=CupsSpooler(queue, cups.server), issuing_country="UTO", follow_seconds=60)
    assert outcome.status.state == JobState.COMPLETED
    assert cups.pdf_of_job(outcome.job_id) is not None


def _cards(count: int, card: RenderedCard) -> list[ProofCard]:
    faces = [sample_face(n) for n in range(count)]
    return [ProofCard(f.document_number, f.arabic_name, f.latin_name, card.front, card.back) for f in faces]


@pytest.mark.parametrize("count", [1, 16])
def test_proof_sheet_and_manifest(tmp_path: Path, card: RenderedCard, count: int) -> None:
    cards = _cards(count, card)
    rows = [ManifestRow(f"APP-{n:06d}", c.document_number, f"CHIP{n:08X}", c.arabic_name, c.latin_name,
                        "printed", INFO.printer, INFO.operator) for n, c in enumerate(cards)]
    paths = write_batch_documents(tmp_path / "batch", INFO, cards, rows)
    proof = PdfReader(paths["proof.pdf"])
    assert len(proof.pages) == (count + 14) // 15
    text = "".join(page.extract_text() for page in proof.pages)
    assert all(c.document_number in text for c in cards)
    manifest = "".join(page.extract_text() for page in PdfReader(paths["manifest.pdf"]).pages)
    assert "B-2026-0001" in manifest and all(r.chip_serial in manifest for r in rows)
    # Arabic goes in as joined presentation forms in display order (ReportLab does not shape).
    shaped = visual_order(cards[0].arabic_name)
    assert shaped != cards[0].arabic_name and any("\ufe70" <= ch <= "\ufeff" for ch in shaped)
    # pypdf gives the glyphs back in logical order: the joined forms, never the bare letters.
    assert shaped[::-1] in manifest or shaped in manifest
    assert cards[0].arabic_name not in manifest
    parsed = list(csv.DictReader(io.StringIO(paths["manifest.csv"].read_text(encoding="utf-8"))))
    assert [row["arabic_name"] for row in parsed] == [c.arabic_name for c in cards]
    assert parsed[0]["chip_serial"] == rows[0].chip_serial


def test_next_step_backs_off_and_hands_over_to_a_person() -> None:
    done, waiting, failed = (JobStatus("1", state) for state in (JobState.COMPLETED, JobState.WAITING,
                                                                   JobState.FAILED))
    assert next_step(done, 1) == Decision(Step.PRINTED)
    assert [next_step(waiting, n).delay_seconds for n in (1, 2, 3, 10)] == [30, 60, 120, 1800]
    assert next_step(waiting, 50).step == Step.CHECK_LATER
    assert next_step(failed, 1) == Decision(Step.RESUBMIT, 30)
    assert next_step(failed, 5).step == Step.TO_PERSON


def test_print_batch_writes_cards_and_batch_documents(tmp_path: Path, design: Design, pki: SealPki) -> None:
    cards = [BatchCard(f"APP-{n:06d}", f"CHIP{n:04d}", sample_face(n)) for n in range(3)]
    outcomes = print_batch(cards, info=INFO, design=design, signer=pki.signer,
                           spooler=FolderSpooler(tmp_path / "cards"), issuing_country="UTO",
                           batch_folder=tmp_path / "batches" / INFO.batch)
    assert [o.status.state for o in outcomes] == [JobState.COMPLETED] * 3
    for card in cards:
        assert (tmp_path / "cards" / card.application_number / "back.png").is_file()
    manifest = (tmp_path / "batches" / INFO.batch / "manifest.csv").read_text(encoding="utf-8")
    assert all(card.chip_serial in manifest for card in cards) and "completed" in manifest
    assert (tmp_path / "batches" / INFO.batch / "proof.pdf").is_file()
