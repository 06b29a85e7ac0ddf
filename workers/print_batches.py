"""A batch's documents from what was printed: proof sheet (both sides of every card) and manifest."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuance.models import Application, Batch, Card, PrintAttempt, PrintAttemptState, Printer, utcnow
from issuance.runtime import Runtime
from issuance.states import CardState
from printing.design import Design
from printing.proofs import BatchInfo, ManifestRow, ProofCard
from printing.render import render_card
from printing.service import write_batch_documents
from workers.print_stage import PrintTools, card_face

# Cards that left the printer: on the proof sheet whatever happened to them since.
PRINTED_OR_LATER = frozenset({CardState.PRINTED, CardState.ISSUED, CardState.ACTIVE, CardState.SUSPENDED,
                              CardState.REVOKED, CardState.EXPIRED})


class BatchNotFound(LookupError):
    """No batch has this number."""


def _spooled(printer: Printer | None, attempt: PrintAttempt | None) -> tuple[Image.Image, Image.Image] | None:
    """front.png and back.png a folder printer wrote for the attempt, if any."""
    if printer is None or attempt is None or printer.kind != "folder":
        return None
    folder = Path(printer.destination) / attempt.job_name
    front, back = folder / "front.png", folder / "back.png"
    if not (front.is_file() and back.is_file()):
        return None
    return Image.open(io.BytesIO(front.read_bytes())), Image.open(io.BytesIO(back.read_bytes()))


def _last_completed(session: Session, card_id: int) -> PrintAttempt | None:
    return session.scalars(select(PrintAttempt).where(
        PrintAttempt.card_id == card_id, PrintAttempt.state == PrintAttemptState.COMPLETED)
        .order_by(PrintAttempt.number.desc())).first()


def _proof(session: Session, rt: Runtime, design: Design, card: Card) -> ProofCard:
    """The card as printed (a folder printer's files), else rendered again from its data (no seal)."""
    face = card_face(session, rt, card)
    attempt = _last_completed(session, card.id)
    printer = (session.scalars(select(Printer).where(Printer.code == attempt.printer)).first()
               if attempt else None)
    sides = _spooled(printer, attempt)
    if sides is None:
        rendered = render_card(face, design)
        sides = rendered.front, rendered.back
    return ProofCard(face.document_number, face.arabic_name, face.latin_name, *sides)


def batch_papers(rt: Runtime, design: Design | None, batch_number: str, operator: str
                 ) -> tuple[BatchInfo, list[ProofCard], list[ManifestRow]]:
    """What the batch documents show: the batch, its printed cards' two sides, a manifest row per card.

    Without a design, no card is rendered (the manifest alone needs none).
    """
    with rt.db.session() as s:
        batch = s.scalars(select(Batch).where(Batch.number == batch_number)).first()
        if batch is None:
            raise BatchNotFound(f"batch {batch_number} does not exist")
        printer = f"{batch.printer.kind}:{batch.printer.code}" if batch.printer else ""
        rows, proofs = [], []
        cards = s.scalars(select(Card).join(Application, Card.application_id == Application.id).where(
            Application.batch_id == batch.id, Card.state != CardState.SPOILED).order_by(Application.id))
        for card in cards:
            application = s.get_one(Application, card.application_id)
            if design is not None and card.state in PRINTED_OR_LATER:
                proofs.append(_proof(s, rt, design, card))
            person = application.applicant.person
            rows.append(ManifestRow(str(application.number), card.document_number or "",
                                    card.chip_serial or "", person.full_name_ar, person.full_name_latin,
                                    str(card.state), printer, operator))
    return BatchInfo(batch_number, printer, operator, utcnow()), proofs, rows


def batch_documents(rt: Runtime, tools: PrintTools, batch_number: str, folder: Path,
                    operator: str) -> dict[str, Path]:
    """proof.pdf, manifest.pdf and manifest.csv of the batch's printed cards, in `folder`."""
    info, proofs, rows = batch_papers(rt, tools.design, batch_number, operator)
    return write_batch_documents(folder, info, proofs, rows)
