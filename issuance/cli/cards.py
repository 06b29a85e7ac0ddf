"""`issuance cards`: the card's life after printing, for supervisors (and the daily expiry job)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from issuance.cli.context import runtime_of
from issuance.cli.identity import acting, as_option
from issuance.delivery import IDENTITY_DOCUMENTS
from issuance.lifecycle import (
    LifecycleError,
    RevocationCause,
    SamePerson,
    activate,
    batch_cards,
    card_by_document,
    dispatch,
    due_for_renewal,
    history,
    next_moves,
    resume,
    revoke_card,
    search_cards,
    suspend,
)
from issuance.models import Card, User
from issuance.roles import Permission, PermissionDenied
from issuance.transitions import NotFound
from issuance.web.lifecycle import record_handover
from workers.reconciler import expire_pass

MAX_UPLOAD = 8 * 1024 * 1024


def one_line_refusals(command: Callable[..., None]) -> Callable[..., None]:
    """A refused move ends the command with one line naming the field and the rule."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except LifecycleError as exc:
            raise click.UsageError(f"{exc} [{exc.rule}]") from None
        except (SamePerson, PermissionDenied, NotFound) as exc:
            raise click.UsageError(str(exc).strip("'\"")) from None

    return run


@contextmanager
def _writing(ctx: click.Context, as_name: str | None) -> Iterator[tuple[Session, User]]:
    rt, user = acting(ctx, as_name, Permission.MANAGE_CARD_LIFECYCLE)
    with rt.db.transaction() as s:
        yield s, user


def _move(ctx: click.Context, as_name: str | None, document_number: str,
          step: Callable[[Session, int, User], Card]) -> None:
    """One move of the card a document number names, as the signed-in user; says the new state."""
    with _writing(ctx, as_name) as (s, user):
        card = step(s, card_by_document(s, document_number, user).id, user)
        click.echo(f"card {card.document_number} is {card.state}")


def _line(card: Card) -> str:
    app = card.application
    moves = ", ".join(next_moves(card)) or "-"
    return (f"{card.document_number or '-':<12} {card.state:<10} {app.number or '-':<18} {app.state:<16} "
            f"office {card.collection_office or '-':<8} expires {card.expires_on or '-'}  next: {moves}")


@click.group()
def cards() -> None:
    """Issued cards: dispatch, hand-over, activation, suspension, revocation, expiry."""


@cards.command("find")
@click.argument("term", default="")
@as_option
@click.pass_context
@one_line_refusals
def find(ctx: click.Context, term: str, as_name: str | None) -> None:
    """Cards by document, national or application number (none: the newest)."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_CARD_LIFECYCLE)
    with rt.db.session() as s:
        for card in search_cards(s, user, term):
            click.echo(_line(card))


@cards.command("show")
@click.argument("document_number")
@as_option
@click.pass_context
@one_line_refusals
def show(ctx: click.Context, document_number: str, as_name: str | None) -> None:
    """One card and its history from the audit log."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_CARD_LIFECYCLE)
    with rt.db.session() as s:
        card = card_by_document(s, document_number, user)
        click.echo(_line(card))
        for e in history(s, card):
            moved = f"{e.from_state} -> {e.to_state}" if e.to_state else ""
            click.echo(f"  {e.ts[:19]}  {e.actor:<14} {e.action:<32} {moved}")


@cards.command("dispatch")
@click.argument("document_numbers", nargs=-1)
@click.option("--office", required=True, help="Site code of the collection office.")
@click.option("--batch", "batch_number", default=None, help="Every printed card of this batch.")
@as_option
@click.pass_context
@one_line_refusals
def dispatch_cards(ctx: click.Context, document_numbers: tuple[str, ...], office: str,
                   batch_number: str | None, as_name: str | None) -> None:
    """Send printed cards to a collection office (all of them or none)."""
    with _writing(ctx, as_name) as (s, user):
        ids = [card_by_document(s, n, user).id for n in document_numbers]
        ids += batch_cards(s, batch_number, user) if batch_number else []
        moved = dispatch(s, ids, office, user)
    click.echo(f"{len(moved)} cards dispatched to {office.upper()}")


def _read(path: Path | None, option: str) -> bytes | None:
    if path is None:
        return None
    if path.stat().st_size > MAX_UPLOAD:
        raise click.BadParameter(f"at most {MAX_UPLOAD} bytes", param_hint=option)
    return path.read_bytes()


@cards.command("hand-over")
@click.option("--receipt", required=True, help="The receipt QR's text, or the application number.")
@click.option("--document-kind", type=click.Choice(IDENTITY_DOCUMENTS), required=True)
@click.option("--document-number", required=True, help="Number of the identity document shown.")
@click.option("--signature", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The holder's signature on delivery (PNG or JPEG from the pad).")
@click.option("--live-photo", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A photo of the holder taken now, compared with the chip portrait.")
@as_option
@click.pass_context
@one_line_refusals
def hand_over_card(ctx: click.Context, receipt: str, document_kind: str, document_number: str,
                   signature: Path, live_photo: Path | None, as_name: str | None) -> None:
    """Hand a dispatched card to its holder: card issued, application delivered."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_CARD_LIFECYCLE)
    fields = {"receipt": receipt, "document_kind": document_kind, "document_number": document_number}
    with rt.db.session() as s:
        card = record_handover(s, rt, user, fields, _read(signature, "--signature") or b"",
                               _read(live_photo, "--live-photo"))
        click.echo(f"card {card.document_number} handed over to the holder of {card.application.number}")


@cards.command("activate")
@click.argument("document_number")
@as_option
@click.pass_context
@one_line_refusals
def activate_card(ctx: click.Context, document_number: str, as_name: str | None) -> None:
    """The holder's card goes live (issued -> active)."""
    _move(ctx, as_name, document_number, lambda s, card_id, user: activate(s, card_id, user))


@cards.command("suspend")
@click.argument("document_number")
@click.option("--reason", required=True)
@as_option
@click.pass_context
@one_line_refusals
def suspend_card(ctx: click.Context, document_number: str, reason: str, as_name: str | None) -> None:
    """Block an active card for a while, saying why."""
    _move(ctx, as_name, document_number, lambda s, card_id, user: suspend(s, card_id, user, reason))


@cards.command("resume")
@click.argument("document_number")
@click.option("--reason", required=True)
@as_option
@click.pass_context
@one_line_refusals
def resume_card(ctx: click.Context, document_number: str, reason: str, as_name: str | None) -> None:
    """Lift a suspension (another supervisor than the one who suspended)."""
    _move(ctx, as_name, document_number, lambda s, card_id, user: resume(s, card_id, user, reason))


@cards.command("revoke")
@click.argument("document_number")
@click.option("--cause", type=click.Choice([c.value for c in RevocationCause]), required=True)
@click.option("--note", default="", help="What the holder reported (police report number, ...).")
@as_option
@click.pass_context
@one_line_refusals
def revoke(ctx: click.Context, document_number: str, cause: str, note: str, as_name: str | None) -> None:
    """Revoke a card; its holder certificate is listed by the next `issuance pki crl`."""
    with _writing(ctx, as_name) as (s, user):
        card_id = card_by_document(s, document_number, user).id
        card = revoke_card(s, card_id, user, RevocationCause(cause), note)
        serial = card.holder_cert_serial or "none"
        click.echo(f"card {card.document_number} revoked ({cause}); holder certificate {serial}")


@cards.command("due")
@click.option("--within-days", default=180, show_default=True, type=click.IntRange(0, 3650))
@as_option
@click.pass_context
@one_line_refusals
def due(ctx: click.Context, within_days: int, as_name: str | None) -> None:
    """Cards in use that expire within N days: the holders to invite for renewal."""
    rt, user = acting(ctx, as_name, Permission.MANAGE_CARD_LIFECYCLE)
    with rt.db.session() as s:
        for card in due_for_renewal(s, user, dt.date.today(), within_days):
            click.echo(_line(card))


@cards.command("expire")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Expire as of this date (default: today).")
@click.pass_context
def expire(ctx: click.Context, today: dt.datetime | None) -> None:
    """Move active and suspended cards past their expiry date to expired (idempotent; daily).

    Every reconciler pass runs it too (`issuance reconcile --every N`, workers, `issuance serve`), so
    no timer is needed; without those, a cron line runs it daily: `5 0 * * * issuance cards expire`.
    """
    expired = expire_pass(runtime_of(ctx), today.date() if today else None)
    click.echo(f"{len(expired)} cards expired")
