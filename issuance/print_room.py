"""What the printer screens show: each printer's queue, its recent jobs and errors, reprints to approve.

Read from the database, the truth: a card waits for a printer while its chip is locked and its
first print is not done, or while an approved reprint request waits to be used. Its printer is
its batch's, else its site's first active printer (as the print stage chooses it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from issuance.models import (
    Application,
    Batch,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Printer,
    ReprintRequest,
    ReprintState,
    User,
)
from issuance.reprints import approve_reprint, open_request
from issuance.sites import in_scope, scoped, sees_all_sites
from issuance.states import ApplicationState, CardState
from issuance.transitions import NotFound

P = PrintAttemptState
# Applications whose locked card waits for its first print.
FIRST_PRINT = (ApplicationState.PERSONALIZED, ApplicationState.PRINTING)
RECENT = 20


@dataclass(frozen=True)
class QueuedCard:
    """A card waiting for its printer, and how far it got: queued, printing, failed (retried) or held."""

    card_id: int
    document_number: str
    application_number: str
    reprint: bool
    status: str
    attempts: int
    reason: str


@dataclass(frozen=True)
class JobRow:
    """One print attempt on a printer."""

    card_id: int
    document_number: str
    application_number: str
    attempt: int
    state: str
    reason: str
    spool_job: str
    updated_at: dt.datetime


@dataclass
class PrinterView:
    """One printer as the operators' screen shows it."""

    code: str
    site: str
    kind: str
    destination: str
    queue: list[QueuedCard] = field(default_factory=list)
    recent: list[JobRow] = field(default_factory=list)
    errors: list[JobRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Cards waiting, and how many of them are queued, printing, failed and held."""
        found = {status: 0 for status in ("queued", "printing", "failed", "held")}
        for card in self.queue:
            found[card.status] += 1
        return {"waiting": len(self.queue), **found}


def _status(attempts: list[PrintAttempt], max_failures: int) -> tuple[str, str]:
    """Where a card's attempts under its current authorization leave it, and the last reason."""
    if not attempts:
        return "queued", ""
    last = attempts[-1]
    failures = sum(a.state == P.FAILED for a in attempts)
    if any(a.state == P.INTERRUPTED for a in attempts) or failures >= max_failures:
        return "held", last.reason
    if last.state in (P.SUBMITTING, P.WAITING):
        return "printing", last.reason
    return "failed", last.reason


def _waiting(sites: list[str]) -> Select[int, str | None, str | None, str, int | None, int]:
    approved = and_(ReprintRequest.card_id == Card.id, ReprintRequest.state == ReprintState.APPROVED)
    return (select(Card.id, Card.document_number, Application.number, Application.site, Batch.printer_id,
                   ReprintRequest.id)
            .join(Application, Card.application_id == Application.id)
            .outerjoin(Batch, Application.batch_id == Batch.id)
            .outerjoin(ReprintRequest, approved)
            .where(Application.site.in_(sites), Card.state.in_((CardState.LOCKED, CardState.PRINTED)),
                   or_(ReprintRequest.id.is_not(None),
                       and_(Card.state == CardState.LOCKED, Application.state.in_(FIRST_PRINT))))
            .order_by(Card.id))


def _fill_queues(session: Session, views: dict[int, PrinterView], printers: list[Printer],
                 max_failures: int) -> None:
    default: dict[str, int] = {}
    for p in sorted(printers, key=lambda p: p.code):
        default.setdefault(p.site, p.id)
    rows = session.execute(_waiting(sorted(default))).all()
    attempts: dict[int, list[PrintAttempt]] = defaultdict(list)
    for a in session.scalars(select(PrintAttempt).where(PrintAttempt.card_id.in_([r[0] for r in rows]))
                             .order_by(PrintAttempt.card_id, PrintAttempt.number)):
        attempts[a.card_id].append(a)
    for card_id, number, app_number, site, printer_id, request_id in rows:
        target = views.get(printer_id if printer_id is not None else default.get(site, 0))
        if target is None:
            continue
        mine = [a for a in attempts[card_id] if a.reprint_id == request_id]
        status, reason = _status(mine, max_failures)
        target.queue.append(QueuedCard(card_id, number or "", app_number or "", request_id is not None,
                                       status, len(mine), reason))


def _jobs(session: Session, code: str, errors_only: bool) -> list[JobRow]:
    stmt = (select(PrintAttempt, Card.document_number, Application.number)
            .join(Card, PrintAttempt.card_id == Card.id)
            .join(Application, Card.application_id == Application.id)
            .where(PrintAttempt.printer == code))
    if errors_only:
        stmt = stmt.where(PrintAttempt.state.in_((P.FAILED, P.INTERRUPTED)))
    rows = session.execute(stmt.order_by(PrintAttempt.updated_at.desc(), PrintAttempt.id.desc())
                           .limit(RECENT))
    return [JobRow(a.card_id, number or "", app_number or "", a.number, str(a.state), a.reason,
                   a.spool_job or "", a.updated_at) for a, number, app_number in rows]


def printer_views(session: Session, user: User, max_failures: int) -> list[PrinterView]:
    """Every active printer the user sees: its queue (cards waiting), recent jobs and errors."""
    printers = list(session.scalars(scoped(select(Printer).where(Printer.active), user, Printer.site)
                                    .order_by(Printer.site, Printer.code)))
    views = {p.id: PrinterView(p.code, p.site, p.kind, p.destination) for p in printers}
    _fill_queues(session, views, printers, max_failures)
    for p in printers:
        views[p.id].recent = _jobs(session, p.code, errors_only=False)
        views[p.id].errors = _jobs(session, p.code, errors_only=True)
    return list(views.values())


@dataclass(frozen=True)
class RequestRow:
    """A reprint request as the screens list it."""

    id: int
    card_id: int
    document_number: str
    application_number: str
    site: str
    reason: str
    state: str
    requested_by: str
    requested_at: dt.datetime
    approved_by: str


def reprint_requests(session: Session, user: User, states: tuple[ReprintState, ...]) -> list[RequestRow]:
    """Reprint requests in these states for cards of the sites the user sees, oldest first."""
    stmt = (select(ReprintRequest, Card.document_number, Application.number, Application.site)
            .join(Card, ReprintRequest.card_id == Card.id)
            .join(Application, Card.application_id == Application.id)
            .where(ReprintRequest.state.in_(states)))
    if not sees_all_sites(user):
        stmt = stmt.where(Application.site == user.site)
    rows = session.execute(stmt.order_by(ReprintRequest.id))
    return [RequestRow(r.id, r.card_id, number or "", app_number or "", site, r.reason, str(r.state),
                       r.requested_by, r.requested_at, r.approved_by or "")
            for r, number, app_number, site in rows]


def approve_request(session: Session, user: User, request_id: int) -> ReprintRequest:
    """A supervisor approves request `request_id` (four eyes: not who asked); NotFound outside their sites."""
    request = session.get(ReprintRequest, request_id)
    card = session.get(Card, request.card_id) if request is not None else None
    if request is None or card is None or not in_scope(user, card.application.site):
        raise NotFound(f"reprint request {request_id} does not exist")
    current = open_request(session, card.id)
    if current is None or current.id != request.id or request.state != ReprintState.REQUESTED:
        raise ReprintRequestClosed(f"reprint request {request_id}: already {request.state}")
    return approve_reprint(session, card, user)


class ReprintRequestClosed(ValueError):
    """The request was approved and used already: nothing waits for a decision."""
