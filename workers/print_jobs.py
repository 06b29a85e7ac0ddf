"""The print stage's rq jobs: one job per card on `print.<printer>`, ids only, idempotent."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_, select, update

from issuance.batches import paused_applications
from issuance.models import Card, Printer, utcnow
from issuance.runtime import Runtime
from issuance.states import CardState
from workers import context, print_stage
from workers.queues import JobQueue, print_queue

log = logging.getLogger(__name__)
# States in which a card may have a print job: the first print, or a reprint of a printed card.
PRINTABLE = (CardState.LOCKED, CardState.PRINTED)


def print_cards(ids: list[int]) -> list[dict[str, str]]:
    """Print (or follow the print of) each card; the automatic check on a folder printer's render."""
    rt = context.runtime()
    tools = print_stage.print_tools(rt)
    done = []
    for card_id in ids:
        result = print_stage.print_one(rt, tools, card_id)
        checked = print_stage.auto_qc(rt, tools, result)
        done.append({"card": str(card_id), "step": str(result.step), "detail": result.detail, "qc": checked})
    for queue, card_ids in _queues_of(rt, ids).items():
        context.jobs().done(queue, card_ids)
    return done


PRINT_JOB = f"{__name__}.print_cards"


def _queues_of(rt: Runtime, card_ids: Sequence[int]) -> dict[str, list[int]]:
    """The print queue of each card: its batch's printer, or its site's."""
    by_queue: dict[str, list[int]] = defaultdict(list)
    with rt.db.session() as s:
        for card in s.scalars(select(Card).where(Card.id.in_(sorted(set(card_ids))))):
            printer = print_stage.printer_of(s, card)
            if printer is None:
                log.warning("card %s: its site has no active printer; not enqueued", card.id)
                continue
            by_queue[print_queue(printer.code)].append(card.id)
    return dict(by_queue)


def enqueue_printing(rt: Runtime, jobs: JobQueue, card_ids: Sequence[int], *,
                     unless_since: dt.datetime | None = None) -> list[int]:
    """Queue a print job for each card not enqueued since `unless_since` (None: never enqueued).

    Personalization calls this when a card is locked. The mark is a compare-and-set, so two
    callers racing over one card enqueue it once; the job itself decides whether it may print.
    Cards of a paused batch are left unmarked: resuming the batch queues them.
    """
    if not card_ids:
        return []
    never = Card.print_enqueued_at.is_(None)
    fresh = never if unless_since is None else or_(never, Card.print_enqueued_at < unless_since)
    claimed: list[int] = []
    for queue, ids in _queues_of(rt, card_ids).items():
        with rt.db.transaction() as s:
            mine = sorted(s.scalars(
                update(Card).where(Card.id.in_(ids), Card.state.in_(PRINTABLE), fresh,
                                   Card.application_id.not_in(paused_applications()))
                .values(print_enqueued_at=utcnow()).returning(Card.id)))
        jobs.enqueue_ids(queue, PRINT_JOB, mine, 1)
        claimed += mine
    return sorted(claimed)


def print_queue_names(rt: Runtime) -> list[str]:
    """The queue of every active printer (what the embedded worker thread works besides validation)."""
    with rt.db.session() as s:
        return [print_queue(code) for code in s.scalars(
            select(Printer.code).where(Printer.active).order_by(Printer.code))]
