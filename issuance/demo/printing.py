"""The demo's print step: every locked card of the batch printed on the folder printer, and batch documents.

Cards go through the print queue as in production (`print.<printer>`, worked in this process);
the folder printer writes OUT/cards/<application-number>/ (front.png, back.png, card.pdf and the
K panels), the automatic quality check runs on each rendered back, and OUT/batches/<batch>/ gets
the proof sheet and the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import ColumnElement, func, select

from issuance.models import Application, Batch, Card
from issuance.pki.bootstrap import embedded_settings
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from workers.print_batches import batch_documents
from workers.print_jobs import enqueue_printing, print_queue_names
from workers.print_stage import print_tools
from workers.queues import open_queue
from workers.worker import drain


@dataclass
class DemoPrint:
    """What the print step did: cards printed, cards that passed the check, and the files written."""

    printed: int = 0
    quality_checked: int = 0
    files: list[str] = field(default_factory=list)


def _locked_cards(rt: Runtime, batch: str) -> list[int]:
    with rt.db.session() as s:
        return list(s.scalars(select(Card.id).join(Application, Card.application_id == Application.id)
                              .join(Batch, Application.batch_id == Batch.id)
                              .where(Batch.number == batch, Card.state == CardState.LOCKED)))


def _count(rt: Runtime, batch: str, condition: ColumnElement[bool]) -> int:
    with rt.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Card)
                            .join(Application, Card.application_id == Application.id)
                            .join(Batch, Application.batch_id == Batch.id)
                            .where(Batch.number == batch, condition)) or 0)


def print_demo_cards(rt: Runtime, out_dir: Path, batch: str) -> DemoPrint:
    """Print every locked card of `batch` through the queue; write OUT/batches/<batch>/ documents."""
    # The demo keystore's passphrase sits beside it under OUT/pki (embedded default only).
    local = Runtime(embedded_settings(out_dir, rt.settings), check_schema=False)
    try:
        jobs = open_queue(local.settings)
        enqueue_printing(local, jobs, _locked_cards(local, batch))
        drain(local, jobs, print_queue_names(local))
        paths = batch_documents(local, print_tools(local), batch, out_dir / "batches" / batch,
                                operator="demo")
        printed = _count(local, batch, Card.state == CardState.PRINTED)
        checked = _count(local, batch, Application.state == ApplicationState.QUALITY_CHECKED)
    finally:
        local.close()
    return DemoPrint(printed, checked, [str(p) for p in paths.values()])
