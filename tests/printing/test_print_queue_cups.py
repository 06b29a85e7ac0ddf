"""A card printed through the queue on a real cupsd with a cups-pdf printer; a stopped printer waits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import select

from issuance.db import Database
from issuance.models import PrintAttempt, PrintAttemptState, User, utcnow
from issuance.runtime import Runtime
from tests.printing.cups_server import CupsServer
from tests.printing.print_cards import add_cups_printer, card_state, make_card, run_queue
from workers.print_jobs import enqueue_printing
from workers.queues import open_queue
from workers.reconciler import reconcile_printing


def _attempt(db: Database, card_id: int) -> PrintAttempt:
    with db.session() as s:
        return s.scalars(select(PrintAttempt).where(PrintAttempt.card_id == card_id)).one()


def test_card_printed_through_the_queue_to_cups(db: Database, prt: Runtime, clerk: User,
                                                cups: CupsServer) -> None:
    queue = cups.add_pdf_printer(f"queue-{db.engine.dialect.name}")
    add_cups_printer(db, "C1", queue, cups.server)
    card_id = make_card(db, prt, clerk, seed=11)
    assert enqueue_printing(prt, open_queue(prt.settings), [card_id]) == [card_id]
    run_queue(prt)
    attempt = _attempt(db, card_id)
    assert attempt.state == PrintAttemptState.COMPLETED, attempt.reason
    written = cups.pdf_of_job(str(attempt.spool_job))
    assert written is not None, f"cups-pdf wrote nothing in {cups.output}"
    assert len(PdfReader(io.BytesIO(written.read_bytes())).pages) == 2
    # Printed on paper: the check waits for a scan (`issuance print qc`), not the rendered image.
    assert card_state(db, card_id) == ("printed", "printed")


def test_stopped_printer_keeps_the_card_waiting_until_enabled(db: Database, prt: Runtime, clerk: User,
                                                              cups: CupsServer) -> None:
    rt = Runtime(dataclasses.replace(prt.settings, print_follow_seconds=1.5))
    queue = cups.add_pdf_printer(f"stopped-{db.engine.dialect.name}")
    add_cups_printer(db, "C2", queue, cups.server)
    card_id = make_card(db, rt, clerk, seed=12)
    jobs = open_queue(rt.settings)
    cups.disable(queue)
    try:
        enqueue_printing(rt, jobs, [card_id])
        run_queue(rt)
        waiting = _attempt(db, card_id)
        assert waiting.state == PrintAttemptState.WAITING and waiting.spool_job
        assert card_state(db, card_id) == ("locked", "printing")
        assert cups.pdf_of_job(waiting.spool_job) is None
        # Not due yet: the reconciler leaves the waiting job alone (and never submits a second one).
        assert reconcile_printing(rt, jobs) == []
    finally:
        cups.enable(queue)
    rt.close()
    rt = Runtime(dataclasses.replace(prt.settings, print_follow_seconds=60))
    assert reconcile_printing(rt, jobs, now=utcnow() + dt.timedelta(hours=1)) == [card_id]
    run_queue(rt)
    done = _attempt(db, card_id)  # still the one attempt: the job was followed, not resubmitted
    assert (done.state, done.spool_job) == (PrintAttemptState.COMPLETED, waiting.spool_job)
    assert cups.pdf_of_job(str(done.spool_job)) is not None
    assert card_state(db, card_id) == ("printed", "printed")
    rt.close()
