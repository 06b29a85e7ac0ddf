"""The print stage: a locked card's face from its verified chip's DG1, printed once, and the record of it.

A card is printed only while its chip is verified and locked and its application personalized (or
printing); a second print needs an approved reprint request, and each authorization (the first
print, or one request) gives one completed print at most. Every attempt is recorded before the
spooler is called, so a worker that dies mid-submission leaves a record for a person, not a
silent second card.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuance import audit, reprints
from issuance.batches import held_by_batch
from issuance.biometrics import load_biometric
from issuance.equipment import site_printer
from issuance.keystore import Keystore
from issuance.models import (
    Application,
    BiometricKind,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Printer,
    ReprintRequest,
    utcnow,
)
from issuance.pki import pki_folder
from issuance.pki.profiles import Role
from issuance.pki.signers import count_use, current_signer
from issuance.pki.store import PkiDirectory
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, move
from printing.card_face import CardFace
from printing.design import Design, load_design
from printing.mrz import td1_checks
from printing.qc import QcReport
from printing.seal import SealSigner
from printing.service import MAX_ATTEMPTS, PrintOutcome, Step, check_printed, next_step, print_card
from printing.spool.base import JobState, JobStatus, Spooler, SpoolError, follow
from printing.spool.printers import spooler_for

ACTOR = Actor("print-stage")
# Applications whose locked card may get its first print.
FIRST_PRINT = (ApplicationState.PERSONALIZED, ApplicationState.PRINTING)
OPEN = (PrintAttemptState.SUBMITTING, PrintAttemptState.WAITING)


class NotPrintable(RuntimeError):
    """The card may not be printed now; the message says which rule stops it."""


@dataclass(frozen=True)
class PrintTools:
    """What printing needs besides the database: the design, the seal signer and the trust anchors."""

    design: Design
    signer: SealSigner
    cscas: list[x509.Certificate]
    seal_certificates: list[x509.Certificate]
    issuing_country: str


def trust_anchors(rt: Runtime) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """Every CSCA and seal signer certificate of the PKI (old ones too: their cards still verify)."""
    directory = PkiDirectory(pki_folder(rt.settings))
    keys = directory.load().keys
    return ([directory.certificate(k.label) for k in keys if k.role == Role.CSCA.value],
            [directory.certificate(k.label) for k in keys if k.role == Role.SEAL.value])


def print_tools(rt: Runtime, keystore: Keystore | None = None) -> PrintTools:
    """The default design and the PKI's current seal signer (signing inside the keystore)."""
    cscas, seals = trust_anchors(rt)
    signer = current_signer(keystore or rt.keystore, PkiDirectory(pki_folder(rt.settings)), Role.SEAL)
    return PrintTools(load_design(), signer, cscas, seals, rt.settings.issuing_state)


def printer_of(session: Session, card: Card) -> Printer | None:
    """The batch's printer, else the first active printer of the application's site."""
    application = session.get_one(Application, card.application_id)
    if application.batch is not None and application.batch.printer is not None:
        return application.batch.printer
    return site_printer(session, application.site)


def spooler_of(printer: Printer) -> Spooler:
    """`folder` writes into its destination; `cups` prints on QUEUE or QUEUE@HOST:PORT."""
    destination = printer.destination
    if printer.kind == "cups":
        queue, _, server = destination.partition("@")
        return spooler_for(f"cups:{queue}", server or None)
    return spooler_for(f"{printer.kind}:{destination}")


def _latin_name(mrz_name_line: str) -> str:
    """The Latin name as the reviewed MRZ spells it: 'PRIMARY, SECONDARY' (ICAO 9303-3 §4.6)."""
    primary, _, secondary = mrz_name_line.rstrip("<").partition("<<")
    primary, secondary = primary.replace("<", " ").strip(), secondary.replace("<", " ").strip()
    return f"{primary}, {secondary}" if secondary else primary


def card_face(session: Session, rt: Runtime, card: Card) -> CardFace:
    """What is printed, from the card row (DG1 as personalization wrote it) and the applicant."""
    if not card.mrz or not card.document_number or not card.expires_on:
        raise NotPrintable(f"card {card.id}: personalization left no DG1 MRZ, document number or expiry")
    lines = tuple(card.mrz.split("\n"))
    bad = [c.field for c in td1_checks(lines) if not c.valid]
    if bad or lines[0][5:14].rstrip("<") != card.document_number:
        raise NotPrintable(f"card {card.document_number}: DG1 MRZ does not match the card "
                           f"({bad or 'document number'})")
    application = session.get_one(Application, card.application_id)
    person = application.applicant.person
    photo = load_biometric(session, rt.vault, application.id, BiometricKind.PHOTO)
    if photo is None:
        raise NotPrintable(f"card {card.document_number}: the application has no photo")
    return CardFace(
        document_number=card.document_number, arabic_name=person.full_name_ar,
        latin_name=_latin_name(lines[2]), national_number=person.national_number, sex=person.sex,
        birth_date=person.birth_date, expiry_date=card.expires_on,
        issue_date=card.issued_on or utcnow().date(), place_of_birth=person.birth_place,
        address=person.address, mrz=(lines[0], lines[1], lines[2]), photo=photo,
        signature=load_biometric(session, rt.vault, application.id, BiometricKind.SIGNATURE),
        nationality=person.nationality)


def _attempts(session: Session, card_id: int) -> list[PrintAttempt]:
    return list(session.scalars(select(PrintAttempt).where(PrintAttempt.card_id == card_id)
                                .order_by(PrintAttempt.number)))


def authorization(session: Session, card: Card) -> ReprintRequest | None:
    """None for a first print, the approved request for a reprint; NotPrintable otherwise."""
    if card.state not in (CardState.LOCKED, CardState.PRINTED):
        raise NotPrintable(f"card {card.document_number}: state {card.state}; only a verified, "
                           "locked chip is printed")
    request = reprints.approved_request(session, card.id)
    if request is not None:
        return request
    application_state = session.scalar(select(Application.state).where(Application.id == card.application_id))
    done = any(a.state == PrintAttemptState.COMPLETED for a in _attempts(session, card.id))
    if card.state == CardState.LOCKED and application_state in FIRST_PRINT and not done:
        return None
    raise NotPrintable(f"card {card.document_number}: already printed; a second print needs an approved "
                       "reprint request")


def held_reason(attempts: list[PrintAttempt], request: ReprintRequest | None) -> str:
    """Why the attempts under this authorization wait for a person ('' when they do not)."""
    mine = [a for a in attempts if a.reprint_id == (request.id if request else None)]
    if any(a.state == PrintAttemptState.INTERRUPTED for a in mine):
        return "a submission was interrupted: check the printer, then approve a reprint"
    if sum(a.state == PrintAttemptState.FAILED for a in mine) >= MAX_ATTEMPTS:
        return f"{MAX_ATTEMPTS} failed attempts: check the printer, then approve a reprint"
    return ""


@dataclass(frozen=True)
class Claim:
    """A new attempt recorded before the spooler is called."""

    attempt_id: int
    number: int
    job_name: str
    face: CardFace
    printer: Printer


def _job_name(application_number: str, number: int) -> str:
    return application_number if number == 1 else f"{application_number}.{number}"


def claim(rt: Runtime, card_id: int, now: dt.datetime) -> Claim | PrintAttempt | str:
    """Record a new attempt (a Claim), or hand back the open attempt to follow, or say why not (str)."""
    with rt.db.transaction() as s:
        card = s.get(Card, card_id)
        if card is None:
            raise NotPrintable(f"card {card_id} does not exist")
        attempts = _attempts(s, card_id)
        if attempts and attempts[-1].state in OPEN:
            return attempts[-1]  # already with the spooler: followed even while its batch is paused
        paused = held_by_batch(s, card.application_id)
        if paused:
            return paused
        request = authorization(s, card)
        held = held_reason(attempts, request)
        if held:
            return held
        last = attempts[-1] if attempts else None
        if last is not None and last.state == PrintAttemptState.FAILED and not due(last, now):
            return f"waiting until {last.next_check_at} before trying again"
        printer = printer_of(s, card)
        if printer is None:
            raise NotPrintable(f"card {card.document_number}: its site has no active printer")
        face = card_face(s, rt, card)
        application = s.get_one(Application, card.application_id)
        number = (s.scalar(select(func.max(PrintAttempt.number)).where(PrintAttempt.card_id == card_id))
                  or 0) + 1
        attempt = PrintAttempt(card_id=card_id, number=number, reprint_id=request.id if request else None,
                               printer=printer.code, job_name=_job_name(str(application.number), number),
                               state=PrintAttemptState.SUBMITTING, reason="", checks=0)
        s.add(attempt)
        s.flush()
        if application.state == ApplicationState.PERSONALIZED:
            move(s, Application, application.id, ApplicationState.PRINTING, ACTOR,
                 expected=ApplicationState.PERSONALIZED, details={"card": card.document_number})
        s.expunge(printer)
        return Claim(attempt.id, number, attempt.job_name, face, printer)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every timestamp we write is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def due(attempt: PrintAttempt, now: dt.datetime) -> bool:
    """True when the attempt's backoff is over (or it has none)."""
    return attempt.next_check_at is None or _aware(attempt.next_check_at) <= now


@dataclass(frozen=True)
class Result:
    """What one pass over a card did."""

    card_id: int
    step: str
    detail: str = ""
    outcome: PrintOutcome | None = None
    printer_kind: str = ""


def print_one(rt: Runtime, tools: PrintTools, card_id: int, now: dt.datetime | None = None,
              follow_seconds: float | None = None) -> Result:
    """Print the card, or follow its open attempt; record what happened through the state machine."""
    now = now or utcnow()
    follow_for = rt.settings.print_follow_seconds if follow_seconds is None else follow_seconds
    try:
        claimed = claim(rt, card_id, now)
    except IntegrityError:
        return Result(card_id, "busy", "another worker recorded an attempt first")
    except NotPrintable as exc:
        return Result(card_id, "refused", str(exc))
    if isinstance(claimed, str):
        return Result(card_id, "held", claimed)
    if isinstance(claimed, PrintAttempt):
        return _follow_open(rt, claimed, now, follow_for)
    spooler = spooler_of(claimed.printer)
    try:
        outcome = print_card(claimed.face, job_name=claimed.job_name, design=tools.design,
                             signer=tools.signer, spooler=spooler, issuing_country=tools.issuing_country,
                             follow_seconds=follow_for)
    except (SpoolError, ValueError, OSError, RuntimeError) as exc:
        # Refused by the spooler, or the seal or render failed before submission: nothing printed.
        failed = JobStatus("", JobState.FAILED, f"{type(exc).__name__}: {exc}")
        return Result(card_id, record(rt, claimed.attempt_id, failed, now), str(exc))
    step = record(rt, claimed.attempt_id, outcome.status, now, seal_label=_label(tools.signer))
    return Result(card_id, step, outcome.status.reason, outcome, claimed.printer.kind)


def _label(signer: SealSigner) -> str | None:
    return getattr(signer, "label", None)


def _follow_open(rt: Runtime, attempt: PrintAttempt, now: dt.datetime, follow_for: float) -> Result:
    if attempt.state == PrintAttemptState.SUBMITTING or not attempt.spool_job:
        if now - _aware(attempt.created_at) < dt.timedelta(seconds=rt.settings.lease_seconds):
            return Result(attempt.card_id, "busy", "another worker is submitting this card")
        record(rt, attempt.id, JobStatus("", JobState.FAILED, "interrupted"), now, interrupted=True)
        return Result(attempt.card_id, Step.TO_PERSON, "submission interrupted")
    with rt.db.session() as s:
        printer = s.scalars(select(Printer).where(Printer.code == attempt.printer)).one()
        s.expunge(printer)
    spooler = spooler_of(printer)
    try:
        status = follow(spooler, attempt.spool_job, follow_for)
    except SpoolError as exc:  # the spooler is unreachable: the job may still print; look again later
        status = JobStatus(attempt.spool_job, JobState.WAITING, str(exc))
    return Result(attempt.card_id, record(rt, attempt.id, status, now))


def record(rt: Runtime, attempt_id: int, status: JobStatus, now: dt.datetime, *, interrupted: bool = False,
           seal_label: str | None = None) -> str:
    """Write the attempt's new state, and on completion move card and application to printed."""
    with rt.db.transaction() as s:
        attempt = s.get_one(PrintAttempt, attempt_id)
        if attempt.state not in OPEN:
            return "recorded"  # another pass recorded it first
        failures = s.scalar(select(func.count()).select_from(PrintAttempt).where(
            PrintAttempt.card_id == attempt.card_id, _under(attempt.reprint_id),
            PrintAttempt.state == PrintAttemptState.FAILED)) or 0
        waiting = status.state in (JobState.WAITING, JobState.PRINTING)
        decision = next_step(status, attempt.checks + 1 if waiting else failures + 1)
        attempt.spool_job = status.job_id or attempt.spool_job
        attempt.reason, attempt.updated_at = status.reason, now
        attempt.checks += 1
        attempt.next_check_at = now + dt.timedelta(seconds=decision.delay_seconds)
        if seal_label:
            count_use(s, seal_label)
        if interrupted:
            attempt.state = PrintAttemptState.INTERRUPTED
            step = Step.TO_PERSON
        elif decision.step == Step.PRINTED:
            attempt.state = PrintAttemptState.COMPLETED
            _printed(s, attempt)
            step = Step.PRINTED
        elif waiting:
            attempt.state = PrintAttemptState.WAITING
            step = Step.CHECK_LATER
        else:
            attempt.state = PrintAttemptState.FAILED
            step = decision.step
        audit.record(s, audit.Entry(
            actor=ACTOR.name, action=f"print.{step}", entity_type="card", entity_id=str(attempt.card_id),
            details={"attempt": attempt.number, "printer": attempt.printer, "job": attempt.spool_job or "",
                     "state": str(attempt.state), "reason": attempt.reason,
                     "reprint": attempt.reprint_id or 0}))
        return str(step)


def _under(reprint_id: int | None) -> ColumnElement[bool]:
    """Attempts under one authorization: the first print (no request) or one reprint request."""
    return PrintAttempt.reprint_id.is_(None) if reprint_id is None else PrintAttempt.reprint_id == reprint_id


def _printed(session: Session, attempt: PrintAttempt) -> None:
    card = session.get_one(Card, attempt.card_id)
    details = {"attempt": attempt.number, "printer": attempt.printer, "job": attempt.spool_job or ""}
    if card.state == CardState.LOCKED:
        move(session, Card, card.id, CardState.PRINTED, ACTOR, expected=CardState.LOCKED, details=details)
        move(session, Application, card.application_id, ApplicationState.PRINTED, ACTOR,
             expected=ApplicationState.PRINTING, details={"card": card.document_number})
    if attempt.reprint_id is not None:
        reprints.mark_used(session, session.get_one(ReprintRequest, attempt.reprint_id), ACTOR.name,
                           attempt.number)


def record_qc(rt: Runtime, card_id: int, report: QcReport, actor: str) -> str:
    """A passed check moves the application to quality_checked; a failed one files a reprint request."""
    with rt.db.transaction() as s:
        card = s.get_one(Card, card_id)
        audit.record(s, audit.Entry(actor=actor, action="print.quality_check", entity_type="card",
                                    entity_id=str(card_id),
                                    details={"passed": report.passed, "problems": report.problems,
                                             "corrections": report.corrections}))
        if report.passed:
            moved = move(s, Application, card.application_id, ApplicationState.QUALITY_CHECKED,
                         Actor(actor), expected=ApplicationState.PRINTED,
                         details={"card": card.document_number})
            return "quality_checked" if moved else "unchanged"
        if reprints.open_request(s, card_id) is None:
            # Every problem is in the audit entry above; the request's reason keeps what fits.
            reason = "quality check: " + "; ".join(report.problems)
            if len(reason) > reprints.MAX_REASON:
                reason = reason[:reprints.MAX_REASON - 1] + "…"
            reprints.request_reprint(s, card, reason, actor)
        return "reprint_requested"


def auto_qc(rt: Runtime, tools: PrintTools, result: Result) -> str:
    """The embedded default's check on the rendered back itself (the folder printer prints no paper)."""
    if result.outcome is None or result.step != Step.PRINTED or result.printer_kind != "folder":
        return ""
    with rt.db.session() as s:
        face = card_face(s, rt, s.get_one(Card, result.card_id))
    report = check_printed(result.outcome, face, tools.design, tools.cscas, tools.seal_certificates)
    return record_qc(rt, result.card_id, report, reprints.QC_ACTOR)

