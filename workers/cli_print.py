"""`issuance print`: reprint requests and their approval, the quality check of a scan, a card's prints."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from issuance import reprints
from issuance.cli.context import runtime_of
from issuance.models import Card, PrintAttempt, ReprintRequest, User, utcnow
from issuance.reprints import FourEyesReprint, ReprintError, approve_reprint, card_by_number, request_by_user
from issuance.roles import PermissionDenied
from issuance.runtime import Runtime
from issuance.transitions import NotFound
from issuance.users import authenticate
from printing.design import load_design
from printing.qc import quality_check_scan
from printing.seal import SealError
from printing.seal_scan import load_grey
from workers.print_jobs import enqueue_printing
from workers.print_stage import NotPrintable, card_face, record_qc, trust_anchors
from workers.queues import open_queue

_REFUSED = (FourEyesReprint, PermissionDenied, ReprintError, NotFound)


@click.group(name="print")
def print_group() -> None:
    """The print stage: reprints (a reason and a second person), quality checks, a card's prints."""


def _signed_in(rt: Runtime, username: str, password: str) -> User:
    try:
        reprints.check_actor(username)
    except ReprintError as exc:
        raise click.UsageError("user name or password is wrong") from exc
    with rt.db.session() as s:
        user = authenticate(s, username, password)
        if user is None:
            raise click.UsageError("user name or password is wrong")
        s.expunge(user)
        return user


@print_group.command("reprint")
@click.argument("card_number")
@click.option("--reason", required=True, help="Why the card is printed again (kept in the audit log).")
@click.option("--by", "username", required=True, help="The operator or supervisor asking.")
@click.password_option(envvar="ISSUANCE_PASSWORD", confirmation_prompt=False)
@click.pass_context
def reprint(ctx: click.Context, card_number: str, reason: str, username: str, password: str) -> None:
    """Ask for CARD_NUMBER to be printed again; a supervisor who did not ask approves it."""
    rt = runtime_of(ctx)
    user = _signed_in(rt, username, password)
    try:
        with rt.db.transaction() as s:
            request = request_by_user(s, card_by_number(s, card_number), reason, user)
            click.echo(f"reprint request {request.id} for card {card_number} waits for a supervisor")
    except _REFUSED as exc:
        raise click.UsageError(str(exc)) from exc


@print_group.command("approve")
@click.argument("card_number")
@click.option("--by", "username", required=True, help="The approving supervisor (not the requester).")
@click.password_option(envvar="ISSUANCE_PASSWORD", confirmation_prompt=False)
@click.pass_context
def approve(ctx: click.Context, card_number: str, username: str, password: str) -> None:
    """Approve the reprint request of CARD_NUMBER and queue the print."""
    rt = runtime_of(ctx)
    user = _signed_in(rt, username, password)
    try:
        with rt.db.transaction() as s:
            card = card_by_number(s, card_number)
            request = approve_reprint(s, card, user)
            card_id, request_id = card.id, request.id
    except _REFUSED as exc:
        raise click.UsageError(str(exc)) from exc
    # The reconciler queues it anyway; enqueueing now just saves its interval.
    enqueue_printing(rt, open_queue(rt.settings), [card_id], unless_since=utcnow())
    click.echo(f"reprint request {request_id} approved by {user.username}; card {card_number} queued")


@print_group.command("qc")
@click.argument("card_number")
@click.option("--scan", "scan", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A scan or photo of the printed back.")
@click.option("--by", "username", default=reprints.QC_ACTOR, show_default=True, help="Who scanned the card.")
@click.pass_context
def qc(ctx: click.Context, card_number: str, scan: Path, username: str) -> None:
    """Read the MRZ and seal from SCAN and compare with DG1: quality_checked (exit 0) or a reprint (1)."""
    rt = runtime_of(ctx)
    try:
        reprints.check_actor(username)
    except ReprintError as exc:
        raise click.BadParameter(str(exc), param_hint="--by") from exc
    try:
        image = load_grey(scan)  # the pixel count is checked before decoding
    except SealError as exc:
        raise click.BadParameter(str(exc), param_hint="--scan") from exc
    try:
        with rt.db.session() as s:
            card = card_by_number(s, card_number)
            card_id, face = card.id, card_face(s, rt, card)
    except (NotFound, NotPrintable, ReprintError) as exc:
        raise click.UsageError(str(exc)) from exc
    cscas, seals = trust_anchors(rt)
    report = quality_check_scan(image, load_design(), face, cscas, seals)
    outcome = record_qc(rt, card_id, report, username)
    for note in report.corrections:
        click.echo(f"  corrected: {note}")
    if report.passed:
        click.echo(f"card {card_number}: quality check passed ({outcome})")
        return
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    raise click.ClickException(f"card {card_number}: quality check FAILED; {outcome}")


@print_group.command("status")
@click.argument("card_number")
@click.pass_context
def status(ctx: click.Context, card_number: str) -> None:
    """Every print attempt and reprint request of CARD_NUMBER."""
    rt = runtime_of(ctx)
    with rt.db.session() as s:
        try:
            card: Card = card_by_number(s, card_number)
        except (NotFound, ReprintError) as exc:
            raise click.UsageError(str(exc)) from exc
        click.echo(f"card {card_number}: {card.state}")
        for a in s.scalars(select(PrintAttempt).where(PrintAttempt.card_id == card.id)
                           .order_by(PrintAttempt.number)):
            click.echo(f"  attempt {a.number} on {a.printer} job {a.spool_job or '-'}: {a.state} {a.reason}")
        for r in s.scalars(select(ReprintRequest).where(ReprintRequest.card_id == card.id)
                           .order_by(ReprintRequest.id)):
            click.echo(f"  reprint {r.id} {r.state}: {r.reason} (asked by {r.requested_by}, "
                       f"approved by {r.approved_by or '-'})")
