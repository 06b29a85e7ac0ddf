"""Batch pages, API and CLI: create, pause, resume, close, reassign, documents; roles and sites."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from issuance.cli.main import main
from issuance.models import Application, AuditEvent, Batch, BatchStatus, Card, Role
from issuance.runtime import Runtime
from issuance.states import ApplicationState, CardState
from issuance.transitions import Actor, move
from tests.factories import TEST_PASSWORD, bearer, make_user
from tests.printing.print_cards import make_card
from tests.supervision.conftest import People, approve, empty_batch, equip, set_state
from tests.web.pages import sign_in

A = ApplicationState


def _batch(rt: Runtime, number: str) -> Batch:
    with rt.db.session() as s:
        batch = s.scalars(select(Batch).where(Batch.number == number)).one()
        s.expunge(batch)
        return batch


def _create(client: TestClient, csrf: str, **form: object) -> str:
    r = client.post("/supervisor/batches", data={"csrf_token": csrf, **form}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"]).rsplit("/", 1)[1]


@pytest.mark.parametrize("role", [Role.CLERK, Role.OPERATOR, Role.ADMIN])
def test_other_roles_are_refused_the_batch_pages(runtime: Runtime, client: TestClient, people: People,
                                                 role: Role) -> None:
    equip(runtime.db)
    empty_batch(runtime.db, "HQ-B000001")
    make_user(runtime.db, "visitor", role)
    csrf = sign_in(client, "visitor")
    for path in ("", "/HQ-B000001", "/HQ-B000001/progress", "/HQ-B000001/proof.pdf",
                 "/HQ-B000001/manifest.pdf", "/HQ-B000001/manifest.csv"):
        assert client.get(f"/supervisor/batches{path}").status_code == 403, path
    for path in ("", "/HQ-B000001/pause", "/HQ-B000001/resume", "/HQ-B000001/close", "/HQ-B000001/assign"):
        assert client.post(f"/supervisor/batches{path}", data={"csrf_token": csrf}).status_code == 403, path
    assert _batch(runtime, "HQ-B000001").status == BatchStatus.OPEN


def test_create_with_chosen_equipment_and_watch_progress(runtime: Runtime, client: TestClient,
                                                         people: People) -> None:
    equip(runtime.db, printers=("P1", "P2"))
    ids = approve(runtime, people.clerk, 4)
    csrf = sign_in(client, "sara")
    assert 'href="/supervisor/batches"' in client.get("/").text  # in the navigation
    number = _create(client, csrf, max_size="3", stations=["S2"], printer="P2")
    batch = _batch(runtime, number)
    assert batch.status == BatchStatus.OPEN and batch.site == "HQ"
    page = client.get(f"/supervisor/batches/{number}")
    assert page.status_code == 200
    assert re.search(r'data-state="batched"><th scope="row">[^<]+</th><td class="count">3<', page.text)
    with runtime.db.session() as s:
        assert sorted(s.scalars(select(Application.id).where(Application.batch_id == batch.id))) == ids[:3]
        assert [st.code for st in s.get_one(Batch, batch.id).stations] == ["S2"]
        assert s.get_one(Batch, batch.id).printer.code == "P2"  # type: ignore[union-attr]
    set_state(runtime.db, ids[:1], A.PERSONALIZING)
    fragment = client.get(f"/supervisor/batches/{number}/progress").text
    assert re.search(r'data-state="personalizing"><th scope="row">[^<]+</th><td class="count">1<', fragment)
    assert number in client.get("/supervisor/batches").text


@pytest.mark.parametrize("form, status, words", [
    ({"max_size": "0"}, 422, "max:"),
    ({"max_size": "many"}, 422, "max:"),
    ({"max_size": "99999"}, 422, "max:"),
    ({"stations": ["S9"]}, 422, "stations:"),
    ({"stations": ["<b>"]}, 422, "stations:"),
    ({"printer": "PN"}, 422, "printer:"),  # the other site's printer
])
def test_create_refuses_junk_naming_the_field(runtime: Runtime, client: TestClient, people: People,
                                              form: dict[str, object], status: int, words: str) -> None:
    equip(runtime.db)
    equip(runtime.db, "NORTH", stations=("SN",), printers=("PN",))
    approve(runtime, people.clerk, 1)
    csrf = sign_in(client, "sara")
    r = client.post("/supervisor/batches", data={"csrf_token": csrf, **form})
    assert r.status_code == status and words in r.text
    with runtime.db.session() as s:
        assert s.scalars(select(Batch)).first() is None


def test_create_with_nothing_approved_is_a_conflict(runtime: Runtime, client: TestClient,
                                                    people: People) -> None:
    equip(runtime.db)
    csrf = sign_in(client, "sara")
    r = client.post("/supervisor/batches", data={"csrf_token": csrf})
    assert r.status_code == 409 and "no approved applications at HQ" in r.text


def test_pause_resume_close_rules(runtime: Runtime, client: TestClient, people: People) -> None:
    equip(runtime.db)
    ids = approve(runtime, people.clerk, 2)
    csrf = sign_in(client, "sara")
    number = _create(client, csrf)
    base = f"/supervisor/batches/{number}"

    def post(action: str, **form: object) -> int:
        return client.post(f"{base}/{action}", data={"csrf_token": csrf, **form},
                        follow_redirects=False).status_code

    assert post("resume") == 409  # only a paused batch resumes
    assert post("pause", reason="ribbon change") == 303
    assert _batch(runtime, number).status == BatchStatus.PAUSED
    assert post("pause") == 409
    assert 'class="warning" role="status"' in client.get(base).text  # the paused note
    assert post("pause", reason="x" * 501) == 422
    assert post("resume") == 303 and _batch(runtime, number).status == BatchStatus.OPEN
    r = client.post(f"{base}/close", data={"csrf_token": csrf})
    assert r.status_code == 409 and "in flight" in r.text and "batched" in r.text
    set_state(runtime.db, ids, A.PRINTED)  # printed, not yet checked: still in flight
    assert post("close") == 409
    set_state(runtime.db, ids, A.QUALITY_CHECKED)
    assert post("close") == 303
    closed = _batch(runtime, number)
    assert closed.status == BatchStatus.CLOSED and closed.closed_at is not None
    assert post("resume") == 409 and post("pause") == 409 and post("close") == 409
    assert post("assign", stations=["S1"], printer="P1") == 409
    with runtime.db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "batch",
                                                                 AuditEvent.entity_id == number)
                                 .order_by(AuditEvent.seq)))
    assert actions == ["batch.created", "batch.paused", "batch.resumed", "batch.closed"]


def test_close_is_refused_while_a_card_is_in_flight(runtime: Runtime, client: TestClient,
                                                    people: People) -> None:
    equip(runtime.db)
    batch_id = empty_batch(runtime.db, "HQ-B000009")
    card_id = make_card(runtime.db, runtime, people.clerk, seed=5, to=CardState.ENCODING, batch_id=batch_id)
    csrf = sign_in(client, "sara")
    r = client.post("/supervisor/batches/HQ-B000009/close", data={"csrf_token": csrf})
    assert r.status_code == 409 and "personalized" in r.text  # the helper leaves it personalized
    assert _batch(runtime, "HQ-B000009").status == BatchStatus.OPEN
    assert card_id


def test_reassign_stations_and_printer(runtime: Runtime, client: TestClient, people: People) -> None:
    equip(runtime.db, printers=("P1", "P2"))
    equip(runtime.db, "NORTH", stations=("SN",), printers=("PN",))
    approve(runtime, people.clerk, 1)
    csrf = sign_in(client, "sara")
    number = _create(client, csrf)
    base = f"/supervisor/batches/{number}"
    r = client.post(f"{base}/assign", data={"csrf_token": csrf, "stations": ["SN"], "printer": "P1"})
    assert r.status_code == 422 and "stations:" in r.text
    r = client.post(f"{base}/assign", data={"csrf_token": csrf, "stations": ["S1"], "printer": "PN"})
    assert r.status_code == 422 and "printer:" in r.text
    r = client.post(f"{base}/assign", data={"csrf_token": csrf, "stations": ["S2"], "printer": "P2"},
                 follow_redirects=False)
    assert r.status_code == 303
    with runtime.db.session() as s:
        batch = s.scalars(select(Batch).where(Batch.number == number)).one()
        assert [st.code for st in batch.stations] == ["S2"] and batch.printer.code == "P2"  # type: ignore[union-attr]
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "batch.assigned")).one()


def test_another_sites_batch_is_missing(runtime: Runtime, client: TestClient, people: People) -> None:
    equip(runtime.db)
    empty_batch(runtime.db, "HQ-B000002")
    csrf = sign_in(client, "nour")
    assert "HQ-B000002" not in client.get("/supervisor/batches").text
    for path in ("", "/progress", "/proof.pdf", "/manifest.pdf", "/manifest.csv"):
        assert client.get(f"/supervisor/batches/HQ-B000002{path}").status_code == 404, path
    for path in ("/pause", "/resume", "/close", "/assign"):
        r = client.post(f"/supervisor/batches/HQ-B000002{path}", data={"csrf_token": csrf})
        assert r.status_code == 404, path
    assert _batch(runtime, "HQ-B000002").status == BatchStatus.OPEN
    for junk in ("..", "a b", "x" * 41, "%00"):
        assert client.get(f"/supervisor/batches/{junk}/manifest.csv").status_code in (404, 422), junk


def test_documents_are_pdfs_and_csv(runtime: Runtime, client: TestClient, people: People) -> None:
    equip(runtime.db)
    batch_id = empty_batch(runtime.db, "HQ-B000003")
    printed = make_card(runtime.db, runtime, people.clerk, seed=3, batch_id=batch_id)
    with runtime.db.transaction() as s:
        move(s, Card, printed, CardState.PRINTED, Actor("test"), expected=CardState.LOCKED)
    make_card(runtime.db, runtime, people.clerk, seed=4, to=CardState.LOCKED, batch_id=batch_id)
    sign_in(client, "sara")
    page = client.get("/supervisor/batches/HQ-B000003").text
    assert 'href="/supervisor/batches/HQ-B000003/proof.pdf"' in page
    for name in ("proof.pdf", "manifest.pdf"):
        r = client.get(f"/supervisor/batches/HQ-B000003/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF") and "attachment" in r.headers["content-disposition"]
        assert len(PdfReader(io.BytesIO(r.content)).pages) == 1
    text = PdfReader(io.BytesIO(client.get("/supervisor/batches/HQ-B000003/manifest.pdf").content)).pages[0]
    assert "2 cards" in text.extract_text()
    proof = PdfReader(io.BytesIO(client.get("/supervisor/batches/HQ-B000003/proof.pdf").content)).pages[0]
    assert len(proof.images) == 2  # front and back of the one printed card
    rows = list(csv.DictReader(io.StringIO(client.get("/supervisor/batches/HQ-B000003/manifest.csv").text)))
    assert sorted(r["state"] for r in rows) == ["locked", "printed"]


def test_api_pause_resume_close_assign(runtime: Runtime, client: TestClient, people: People) -> None:
    equip(runtime.db, printers=("P1", "P2"))
    ids = approve(runtime, people.clerk, 1)
    headers = bearer(client, "sara")
    number = client.post("/api/batches", json={"site": "HQ"}, headers=headers).json()["number"]
    r = client.post(f"/api/batches/{number}/pause", json={"reason": "ribbon"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "paused"
    assert client.post(f"/api/batches/{number}/pause", json={}, headers=headers).status_code == 409
    assert client.post(f"/api/batches/{number}/resume", headers=headers).json()["status"] == "open"
    r = client.post(f"/api/batches/{number}/assign", json={"stations": ["S2"], "printer": "P2"},
                    headers=headers)
    assert r.status_code == 200 and (r.json()["stations"], r.json()["printer"]) == (["S2"], "P2")
    assert client.post(f"/api/batches/{number}/assign", json={"stations": ["S9"]},
                    headers=headers).status_code == 422
    r = client.post(f"/api/batches/{number}/close", headers=headers)
    assert r.status_code == 409 and "in flight" in r.json()["message"]
    set_state(runtime.db, ids, A.DELIVERED)
    assert client.post(f"/api/batches/{number}/close", headers=headers).json()["status"] == "closed"
    pause = f"/api/batches/{number}/pause"
    assert client.post(pause, json={}, headers=bearer(client, "nour")).status_code == 404
    assert client.post("/api/batches/bad number!/pause", json={}, headers=headers).status_code == 422
    assert client.post(pause, json={}, headers=bearer(client, "amal")).status_code == 403
    assert client.post(f"/api/batches/{number}/pause", json={"reason": 5}, headers=headers).status_code == 422


def test_cli_pause_resume_close(runtime: Runtime, people: People) -> None:
    equip(runtime.db)
    batch_id = empty_batch(runtime.db, "HQ-B000004")
    s = runtime.settings
    env = {"ISSUANCE_DATABASE_URL": s.effective_database_url, "ISSUANCE_DATA_DIR": str(s.data_dir),
           "ISSUANCE_PASSWORD": TEST_PASSWORD, "ISSUANCE_REDIS_URL": ""}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["batch", *args], env=env)
        return result.exit_code, result.output

    assert run("pause", "HQ-B000004", "--as", "sara", "--reason", "jam") == (0, "batch HQ-B000004: paused\n")
    assert run("pause", "HQ-B000004", "--as", "sara")[0] == 2
    assert run("resume", "HQ-B000004", "--as", "sara") == (0, "batch HQ-B000004: open\n")
    assert run("close", "HQ-B000004", "--as", "nour")[0] == 2  # another site's: does not exist
    assert run("close", "HQ-B000004", "--as", "amal")[0] == 2  # a clerk
    assert run("close", "NOPE", "--as", "sara")[0] == 2
    assert run("close", "HQ-B000004", "--as", "sara") == (0, "batch HQ-B000004: closed\n")
    assert batch_id
