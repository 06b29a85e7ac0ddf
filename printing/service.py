"""Print-stage service functions: pure inputs in, files and a spooler job out (no ORM, no queue).

The rq job of the print stage loads the application and its verified chip's DG1, builds a CardFace,
calls print_card, and records the outcome through the state machine; see the report of issue 14.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from cryptography import x509

from printing.card_face import CardFace
from printing.design import Design
from printing.proofs import BatchInfo, ManifestRow, ProofCard, manifest_csv, manifest_pdf, proof_sheet_pdf
from printing.qc import QcReport, quality_check
from printing.render import RenderedCard, render_card
from printing.seal import SealSigner, make_seal, seal_text
from printing.spool.base import JobState, JobStatus, PrintJob, Spooler, follow

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 1800
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PrintOutcome:
    """What printing one card produced: the spooler's job and its state, the images and the seal."""

    job_id: str
    status: JobStatus
    card: RenderedCard
    seal: bytes


def _png(image_card: RenderedCard) -> dict[str, bytes]:
    files = {}
    for name, image in (("front.png", image_card.front), ("back.png", image_card.back),
                        ("front-k.png", image_card.front_k), ("back-k.png", image_card.back_k)):
        buf = io.BytesIO()
        image.save(buf, "PNG", dpi=(image_card.dpi, image_card.dpi), compress_level=1)
        files[name] = buf.getvalue()
    return files


def print_card(face: CardFace, *, job_name: str, design: Design, signer: SealSigner, spooler: Spooler,
               issuing_country: str, dpi: int = 300, follow_seconds: float = 0.0,
               today: date | None = None) -> PrintOutcome:
    """Seal, render and submit one card; follow the job for up to follow_seconds."""
    seal = make_seal(face, signer, issuing_country, today)
    card = render_card(face, design, seal_text=seal_text(seal), dpi=dpi)
    job_id = spooler.submit(PrintJob(job_name, card.pdf, _png(card)))
    status = follow(spooler, job_id, follow_seconds) if follow_seconds else spooler.status(job_id)
    return PrintOutcome(job_id=job_id, status=status, card=card, seal=seal)


def check_printed(outcome: PrintOutcome, face: CardFace, design: Design, cscas: list[x509.Certificate],
                  signers: list[x509.Certificate]) -> QcReport:
    """The automatic quality check of the embedded default: on the rendered back itself."""
    return quality_check(outcome.card.back, design, face, cscas, signers, outcome.card.dpi)


def write_batch_documents(folder: Path, info: BatchInfo, cards: list[ProofCard],
                          rows: list[ManifestRow]) -> dict[str, Path]:
    """proof.pdf, manifest.pdf and manifest.csv of a batch, in its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in ("proof.pdf", "manifest.pdf", "manifest.csv")}
    paths["proof.pdf"].write_bytes(proof_sheet_pdf(info, cards))
    paths["manifest.pdf"].write_bytes(manifest_pdf(info, rows))
    paths["manifest.csv"].write_text(manifest_csv(rows), encoding="utf-8")
    return paths


class Step(StrEnum):
    """What the print stage does next with a card, from its spooler job's state."""

    PRINTED = "printed"  # move the card locked -> printed, the application printing -> printed
    CHECK_LATER = "check_later"  # queued or printer stopped: look at the same job again later
    RESUBMIT = "resubmit"  # the spooler failed the job: submit it again later
    TO_PERSON = "to_person"  # failed too often: a supervisor looks at the printer


@dataclass(frozen=True)
class Decision:
    step: Step
    delay_seconds: int = 0


def next_step(status: JobStatus, attempt: int) -> Decision:
    """Backoff of 30 s doubling to 30 min for waiting or failed jobs; a person after 5 failures."""
    delay = min(RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), RETRY_MAX_SECONDS)
    if status.state == JobState.COMPLETED:
        return Decision(Step.PRINTED)
    if status.state == JobState.FAILED:
        return Decision(Step.TO_PERSON) if attempt >= MAX_ATTEMPTS else Decision(Step.RESUBMIT, delay)
    return Decision(Step.CHECK_LATER, delay)


@dataclass(frozen=True)
class BatchCard:
    """One card of a production batch, as the print stage hands it over."""

    application_number: str
    chip_serial: str
    face: CardFace


def print_batch(cards: list[BatchCard], *, info: BatchInfo, design: Design, signer: SealSigner,
                spooler: Spooler, issuing_country: str, batch_folder: Path) -> list[PrintOutcome]:
    """Print every card (one job each, named by application number) and write the batch documents."""
    outcomes, proofs, rows = [], [], []
    for card in cards:
        outcome = print_card(card.face, job_name=card.application_number, design=design, signer=signer,
                             spooler=spooler, issuing_country=issuing_country)
        outcomes.append(outcome)
        face = card.face
        proofs.append(ProofCard(face.document_number, face.arabic_name, face.latin_name,
                                outcome.card.front, outcome.card.back))
        rows.append(ManifestRow(card.application_number, face.document_number, card.chip_serial,
                                face.arabic_name, face.latin_name, outcome.status.state.value,
                                info.printer, info.operator))
    write_batch_documents(batch_folder, info, proofs, rows)
    return outcomes
