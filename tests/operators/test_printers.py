"""The printer page: queue figures equal the database, reprint request and approval (four eyes), scoping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import and_, exists, func, or_, select

from issuance.models import (
    Application,
    AuditEvent,
    Batch,
    Card,
    PrintAttempt,
    PrintAttemptState,
    Printer,
    ReprintRequest,
    ReprintState,
)
from issuance.reprints import request_by_user
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, move
from tests.factories import bearer
from tests.operators.conftest import Floor
from workers.print_jobs import enqueue_printing
from workers.queues import open_queue

A, C, P = ApplicationState, CardState, PrintAttemptState
SECTION = re.compile(r'<section id="printer-(?P<code>\w+)".*?</section>', re.S)
COUNT = re.compile(r'<dd data-count="(\w+)">(\d+)</dd>')


def figures(client: TestClient) -> dict[str, dict[str, int]]:
    """Each printer's figures as the live fragment shows them."""
    r = client.get("/operators/printers/live")
    assert r.status_code == 200, r.text
    return {m["code"]: {k: int(v) for k, v in COUNT.findall(m.group(0))} for m in SECTION.finditer(r.text)}


def ask(floor: Floor, card_id: int, reason: str, by: str) -> int:
    """A reprint request filed by `by` through the service; its id."""
    user = floor.users[by]
    with floor.db.transaction() as s:
        return request_by_user(s, s.get_one(Card, card_id), reason, user).id


def attempt(floor: Floor, card_id: int, state: PrintAttemptState, printer: str = "P1",
            reprint_id: int | None = None, reason: str = "") -> None:
    with floor.db.transaction() as s:
        last = s.scalar(select(func.max(PrintAttempt.number)).where(PrintAttempt.card_id == card_id))
        number = (last or 0) + 1
        s.add(PrintAttempt(card_id=card_id, number=number, reprint_id=reprint_id, printer=printer,
                           job_name=f"job-{card_id}-{number}", spool_job=f"spool-{card_id}-{number}",
                           state=state, reason=reason, checks=1))
        app_id = s.get_one(Card, card_id).application_id
        if s.get_one(Application, app_id).state == A.PERSONALIZED:
            move(s, Application, app_id, A.PRINTING, Actor("print-stage"), expected=A.PERSONALIZED)


def printed(floor: Floor, card_id: int) -> None:
    """The card's first print completed: card and application `printed`."""
    attempt(floor, card_id, P.COMPLETED)
    with floor.db.transaction() as s:
        card = s.get_one(Card, card_id)
        move(s, Card, card_id, C.PRINTED, Actor("print-stage"), expected=C.LOCKED)
        move(s, Application, card.application_id, A.PRINTED, Actor("print-stage"), expected=A.PRINTING)


def db_waiting(floor: Floor, printer: str) -> int:
    """Cards waiting for `printer`, counted straight from the tables."""
    approved = exists().where(ReprintRequest.card_id == Card.id,
                              ReprintRequest.state == ReprintState.APPROVED)
    with floor.db.session() as s:
        return s.scalar(
            select(func.count()).select_from(Card).join(Application, Card.application_id == Application.id)
            .join(Batch, Application.batch_id == Batch.id).join(Printer, Batch.printer_id == Printer.id)
            .where(Printer.code == printer, or_(approved, and_(
                Card.state == C.LOCKED, Application.state.in_((A.PERSONALIZED, A.PRINTING)))))) or 0


@pytest.fixture
def shop(floor: Floor, runtime: Runtime) -> dict[str, list[int]]:
    """P1: one card per status and a printed one; P2: two queued cards; EAST's Q1: three."""
    p1 = floor.locked_cards("clerk1", 6, station="S1", printer="P1")
    p2 = floor.locked_cards("clerk1", 2, station="S2", printer="P2", seed=2)
    q1 = floor.locked_cards("clerk2", 3, station="E1", printer="Q1", seed=3)
    attempt(floor, p1[1], P.WAITING)
    attempt(floor, p1[2], P.FAILED, reason="printer out of ribbon")
    attempt(floor, p1[3], P.FAILED, reason="jam")
    attempt(floor, p1[3], P.INTERRUPTED, reason="interrupted")
    printed(floor, p1[4])
    for _ in range(5):
        attempt(floor, p1[5], P.FAILED, reason="offline")
    enqueue_printing(runtime, open_queue(runtime.settings), [p1[0], p1[1], *p2])
    return {"P1": p1, "P2": p2, "Q1": q1}


def test_queue_figures_equal_the_database(floor: Floor, shop: dict[str, list[int]], web: TestClient,
                                          runtime: Runtime) -> None:
    floor.sign_in(web, "op1")
    shown = figures(web)
    assert set(shown) == {"P1", "P2"}  # Q1 is EAST's
    assert shown["P1"] == {"waiting": 5, "queued": 1, "printing": 1, "failed": 1, "held": 2, "on_queue": 2}
    assert shown["P2"] == {"waiting": 2, "queued": 2, "printing": 0, "failed": 0, "held": 0, "on_queue": 2}
    for code in ("P1", "P2"):
        assert shown[code]["waiting"] == db_waiting(floor, code)
        assert shown[code]["on_queue"] == len(open_queue(runtime.settings).pending(f"print.{code}"))
    page = web.get("/operators/printers").text
    assert "printer out of ribbon" in page and floor.number(shop["P1"][2]) in page
    floor.sign_in(web, "op2")
    east = figures(web)
    assert set(east) == {"Q1"} and east["Q1"]["waiting"] == db_waiting(floor, "Q1") == 3


def test_the_api_gives_the_same_figures(floor: Floor, shop: dict[str, list[int]], web: TestClient) -> None:
    floor.sign_in(web, "op1")
    shown = figures(web)
    headers = bearer(web, "op1")
    api = {p["code"]: {**p["counts"], "on_queue": p["on_queue"]} for p in web.get("/api/printers",
                                                                                      headers=headers).json()}
    assert api == shown


def _post(client: TestClient, url: str, csrf: str, **data: str) -> tuple[int, str]:
    r = client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)
    return r.status_code, r.text


def _requests(floor: Floor, card_id: int) -> list[ReprintRequest]:
    with floor.db.session() as s:
        return list(s.scalars(select(ReprintRequest).where(ReprintRequest.card_id == card_id)))


def test_reprint_request_then_approval_by_another_supervisor(floor: Floor, shop: dict[str, list[int]],
                                                             web: TestClient, runtime: Runtime) -> None:
    card_id = shop["P1"][4]
    number = floor.number(card_id)
    csrf = floor.sign_in(web, "op1")
    assert _post(web, "/operators/printers/reprints", csrf, card=number.lower(),
                 reason="ribbon smudged the photo")[0] == 303
    [request] = _requests(floor, card_id)
    assert (request.state, request.requested_by, request.reason) == (
        ReprintState.REQUESTED, "op1", "ribbon smudged the photo")
    status, text = _post(web, "/operators/printers/reprints", csrf, card=number, reason="again")
    assert status == 422 and "already open" in text
    assert "ribbon smudged the photo" in web.get("/operators/printers").text
    csrf = floor.sign_in(web, "sup1")
    listing = web.get("/supervisor/reprints").text
    assert f'action="/supervisor/reprints/{request.id}/approve"' in listing
    assert _post(web, f"/supervisor/reprints/{request.id}/approve", csrf)[0] == 303
    [request] = _requests(floor, card_id)
    assert (request.state, request.approved_by) == (ReprintState.APPROVED, "sup1")
    assert card_id in open_queue(runtime.settings).pending("print.P1")  # queued at once
    status, text = _post(web, f"/supervisor/reprints/{request.id}/approve", csrf)
    assert status == 409 and "already approved" in text
    with floor.db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "card", AuditEvent.entity_id == str(card_id),
            AuditEvent.action.like("reprint.%"))))
    assert actions == ["reprint.requested", "reprint.approved"]
    floor.sign_in(web, "op1")
    assert figures(web)["P1"]["waiting"] == db_waiting(floor, "P1") == 6  # the reprint waits too


def test_a_supervisor_cannot_approve_their_own_request(floor: Floor, shop: dict[str, list[int]],
                                                       web: TestClient) -> None:
    card_id = shop["P1"][4]
    request_id = ask(floor, card_id, "colour cast", "sup1")
    csrf = floor.sign_in(web, "sup1")
    listing = web.get("/supervisor/reprints").text
    assert "another supervisor approves it" in listing or "يوافق عليها مشرف آخر" in listing
    assert f"/supervisor/reprints/{request_id}/approve" not in listing
    status, text = _post(web, f"/supervisor/reprints/{request_id}/approve", csrf)
    assert status == 409 and "cannot also approve it" in text
    assert _requests(floor, card_id)[0].state == ReprintState.REQUESTED
    csrf = floor.sign_in(web, "sup2")
    assert _post(web, f"/supervisor/reprints/{request_id}/approve", csrf)[0] == 303
    assert _requests(floor, card_id)[0].approved_by == "sup2"


def test_other_sites_cards_and_requests_are_not_found(floor: Floor, shop: dict[str, list[int]],
                                                      web: TestClient) -> None:
    hq_card = shop["P1"][4]
    request_id = ask(floor, hq_card, "torn", "op1")
    csrf = floor.sign_in(web, "sup3")  # EAST's supervisor
    assert f"/supervisor/reprints/{request_id}/approve" not in web.get("/supervisor/reprints").text
    status, text = _post(web, f"/supervisor/reprints/{request_id}/approve", csrf)
    assert status == 404 and "does not exist" in text
    csrf = floor.sign_in(web, "op2")  # EAST's operator
    east_page = web.get("/operators/printers").text
    assert floor.number(hq_card) not in east_page and "torn" not in east_page
    printed_p2 = shop["P2"][0]
    status, text = _post(web, "/operators/printers/reprints", csrf, card=floor.number(printed_p2),
                         reason="x")
    assert status == 404 and "does not exist" in text
    assert _requests(floor, printed_p2) == []


JUNK_FORMS = [
    ("", "smudge", 422, "card number"),
    ("C0000@1", "smudge", 422, "card number"),
    ("C" + "9" * 30, "smudge", 422, "card number"),
    ("C99999999", "smudge", 404, "does not exist"),
    ("{card}", "", 422, "reason"),
    ("{card}", "   ", 422, "reason"),
    ("{card}", "x" * 501, 422, "reason"),
    ("{card}", "bell\x07", 422, "reason"),
    ("{card}", "nul\x00", 422, "reason"),
]
JUNK_IDS = [("abc", 422), ("0", 422), ("-3", 422), ("99999999999", 422), ("12345", 404), ("1.5", 422)]


def test_junk_reprint_forms_and_request_ids_get_a_clear_4xx(floor: Floor, shop: dict[str, list[int]],
                                                             web: TestClient) -> None:
    number = floor.number(shop["P1"][4])
    csrf = floor.sign_in(web, "op1")
    for card, reason, status, says in JUNK_FORMS:
        got, text = _post(web, "/operators/printers/reprints", csrf, card=card.replace("{card}", number),
                          reason=reason)
        assert got == status and says in text, (card, reason)
        assert "\x00" not in text and "\x07" not in text  # the refused text comes back without controls
    assert _requests(floor, shop["P1"][4]) == []
    csrf = floor.sign_in(web, "sup1")
    for request_id, status in JUNK_IDS:
        assert _post(web, f"/supervisor/reprints/{request_id}/approve", csrf)[0] == status, request_id


def test_forms_without_the_csrf_token_are_refused(floor: Floor, shop: dict[str, list[int]],
                                                  web: TestClient) -> None:
    floor.sign_in(web, "op1")
    r = web.post("/operators/printers/reprints", data={"card": floor.number(shop["P1"][4]), "reason": "x"})
    assert r.status_code == 403
    r = web.post("/operators/stations/S1/self-test", data={})
    assert r.status_code == 403


def test_the_api_refuses_junk_and_own_approvals(floor: Floor, shop: dict[str, list[int]],
                                                web: TestClient) -> None:
    def headers(name: str) -> dict[str, str]:
        floor.users[name]
        return bearer(web, name)

    op, sup = headers("op1"), headers("sup1")
    number = floor.number(shop["P1"][4])
    for body in ({}, {"card": number}, {"card": "bad card", "reason": "x"}, {"card": number, "reason": ""},
                 {"card": number, "reason": "a\x00"}, [1, 2]):
        r = web.post("/api/reprints", json=body, headers=op)
        assert r.status_code == 422, body
        assert isinstance(body, list) or r.json()["errors"][0]["field"] in ("card", "reason"), r.json()
    r = web.post("/api/reprints", json={"card": number, "reason": "ribbon"}, headers=op)
    assert r.status_code == 201
    request_id = r.json()["request"]
    [waiting] = web.get("/api/reprints", headers=sup).json()
    assert waiting["id"] == request_id and waiting["own"] is False
    assert web.post(f"/api/reprints/{request_id}/approve", headers=sup).status_code == 200
    assert web.post(f"/api/reprints/{request_id}/approve", headers=sup).status_code == 409
    mine = ask(floor, shop["P1"][0], "scratch", "sup1")
    r = web.post(f"/api/reprints/{mine}/approve", headers=sup)
    assert r.status_code == 409 and "cannot also approve" in r.json()["message"]
