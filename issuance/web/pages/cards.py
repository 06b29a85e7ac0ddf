"""The supervisor's card pages: find a card, its history, its next moves, dispatch and the hand-over form."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from issuance.auth import MAX_ID
from issuance.delivery import IDENTITY_DOCUMENTS
from issuance.lifecycle import (
    LifecycleError,
    RevocationCause,
    SamePerson,
    activate,
    batch_cards,
    dispatch,
    find_card,
    history,
    next_moves,
    resume,
    revoke_card,
    search_cards,
    suspend,
)
from issuance.models import Card, User
from issuance.roles import Permission
from issuance.successors import successors
from issuance.transitions import NotFound
from issuance.web.deps import committing
from issuance.web.lifecycle import RULES_AR, record_handover
from issuance.web.pages.deps import Db, PageRefused, Rt, Visit, page_guard, render, see_other

router = APIRouter(prefix="/cards", include_in_schema=False)
Supervisor = Annotated[Visit, Depends(page_guard(Permission.MANAGE_CARD_LIFECYCLE))]
MAX_UPLOAD = 8 * 1024 * 1024
# How each button's form moves a card: the form's fields to the core function's call.
MOVES: dict[str, Callable[[Any, int, User, Mapping[str, str]], Card]] = {
    "activate": lambda s, card_id, user, _: activate(s, card_id, user),
    "suspend": lambda s, card_id, user, f: suspend(s, card_id, user, f.get("reason", "")),
    "resume": lambda s, card_id, user, f: resume(s, card_id, user, f.get("reason", "")),
    "revoke": lambda s, card_id, user, f: revoke_card(s, card_id, user, _cause(f.get("cause", "")),
                                                       f.get("note", "")),
}


def _cause(raw: str) -> RevocationCause:
    try:
        return RevocationCause(raw)
    except ValueError:
        choices = ", ".join(c.value for c in RevocationCause)
        raise LifecycleError("cause", "choice", f"one of {choices}") from None


def _problem(v: Visit, exc: Exception) -> dict[str, str]:
    """A refusal as the page shows it: the rule in the screen's language, the detail as given."""
    rule = exc.rule if isinstance(exc, LifecycleError) else "four_eyes"
    field = exc.field if isinstance(exc, LifecycleError) else ""
    said = RULES_AR.get(rule, "") if v.words.language == "ar" else ""
    return {"field": field, "rule": said or rule.replace("_", " "), "detail": str(exc)}


@contextmanager
def _missing_is_404() -> Iterator[None]:
    """A card or batch that does not exist (or is another site's) is a 404 page."""
    try:
        yield
    except NotFound as exc:
        raise PageRefused(404, str(exc), "not_found") from exc


def _status(exc: Exception) -> int:
    return 422 if isinstance(exc, LifecycleError) and exc.rule != "state" else 409


def _texts(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("")
def cards_page(request: Request, v: Supervisor, session: Db, q: str = "", done: str = "") -> Response:
    """Find cards by document, national or application number; dispatch printed ones."""
    return _list(request, v, session, q[:40], done=done[:10])


def _list(request: Request, v: Visit, session: Db, q: str, status: int = 200, done: str = "",
          problem: dict[str, str] | None = None) -> Response:
    rows = search_cards(session, v.user, q)
    return render(request, "cards/search.html", v.words, status=status, visit=v, rows=rows, q=q,
                  done=done if done.isdigit() else "", problem=problem)


def _ids(form: FormData) -> list[int]:
    raw = [str(x) for x in form.getlist("card")]
    if not all(x.isdigit() and 1 <= int(x) <= MAX_ID for x in raw):
        raise LifecycleError("cards", "count", "card ids are whole numbers")
    return [int(x) for x in raw]


@router.post("/dispatch")
async def dispatch_page(request: Request, v: Supervisor, session: Db) -> Response:
    """Dispatch the selected cards, or a batch's printed ones, to a collection office (all or none)."""
    form = await request.form()
    fields = _texts(form)
    try:
        with _missing_is_404(), committing(session):
            ids = _ids(form)
            if fields.get("batch", "").strip():
                ids += batch_cards(session, fields["batch"], v.user)
            moved = dispatch(session, ids, fields.get("office", ""), v.user)
    except (LifecycleError, SamePerson) as exc:
        return _list(request, v, session, "", _status(exc), problem=_problem(v, exc))
    return see_other(f"/cards?done={len(moved)}")


def _card_page(request: Request, v: Visit, session: Db, card_id: int, status: int = 200, done: str = "",
               problem: dict[str, str] | None = None) -> Response:
    with _missing_is_404():
        card = find_card(session, card_id, v.user)
    return render(request, "cards/card.html", v.words, status=status, visit=v, card=card,
                  events=history(session, card), successors=successors(session, card),
                  card_moves=next_moves(card), causes=[c.value for c in RevocationCause],
                  done=done if done in (*MOVES, "handed_over") else "", problem=problem)


@router.get("/handover")
def handover_form(request: Request, v: Supervisor, receipt: str = "") -> Response:
    """The hand-over form: receipt QR (scanned into the field) or typed, identity, face, signature."""
    return _handover_form(request, v, {"receipt": receipt[:200]})


def _handover_form(request: Request, v: Visit, values: Mapping[str, str], status: int = 200,
                   problem: dict[str, str] | None = None) -> Response:
    return render(request, "cards/handover.html", v.words, status=status, visit=v, values=values,
                  kinds=IDENTITY_DOCUMENTS, problem=problem)


async def _upload(form: FormData, name: str) -> bytes | None:
    item = form.get(name)
    if not isinstance(item, UploadFile):
        return None
    data = await item.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise LifecycleError(name, "image", f"at most {MAX_UPLOAD} bytes")
    return data or None


@router.post("/handover")
async def handover_post(request: Request, v: Supervisor, session: Db, rt: Rt) -> Response:
    """Record the hand-over through the API's own wiring (face compared, signature cleaned)."""
    form = await request.form(max_files=2, max_fields=20, max_part_size=MAX_UPLOAD)
    fields = {k: _texts(form).get(k, "")[:200] for k in ("receipt", "document_kind", "document_number")}
    try:
        signature, live = await _upload(form, "signature"), await _upload(form, "live_photo")
        with _missing_is_404():
            card = record_handover(session, rt, v.user, fields, signature or b"", live)
    except (LifecycleError, SamePerson) as exc:
        return _handover_form(request, v, fields, _status(exc), _problem(v, exc))
    return see_other(f"/cards/{card.id}?done=handed_over")


@router.get("/{card_id}")
def card_page(request: Request, card_id: int, v: Supervisor, session: Db, done: str = "") -> Response:
    """A card, its history from the audit log, renewals naming it, and buttons for its next moves."""
    return _card_page(request, v, session, _checked_id(card_id), done=done)


def _checked_id(card_id: int) -> int:
    if not 1 <= card_id <= MAX_ID:
        return 0  # names no card: find_card says it does not exist
    return card_id


@router.post("/{card_id}/{action}")
async def card_move(request: Request, card_id: int, action: str, v: Supervisor, session: Db) -> Response:
    """One of the card's next moves (activate, suspend, resume, revoke) from its page's buttons."""
    move = MOVES.get(action)
    card_id = _checked_id(card_id)
    if move is None:
        raise PageRefused(404, f"no such action {action[:20]!r}", "not_found")
    fields = _texts(await request.form())
    try:
        with _missing_is_404(), committing(session):
            move(session, card_id, v.user, fields)
    except (LifecycleError, SamePerson) as exc:
        return _card_page(request, v, session, card_id, _status(exc), problem=_problem(v, exc))
    return see_other(f"/cards/{card_id}?done={action}")
