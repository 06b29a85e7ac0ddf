"""The station page: a real station loop's heartbeat and steps, offline when stale, self-test round trip."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from issuance.equipment import add_station
from issuance.models import Application, AuditEvent, Card, Role, Station, utcnow
from issuance.station_status import record_beat
from personalization.station.loop import Job
from personalization.station.monitor import Monitor, StationStatus
from personalization.station.result import Step, StepOutcome
from personalization.station.self_test import Check, SelfTestReport
from personalization.vpcd import VirtualReaderSlot
from tests.factories import make_user
from tests.operators.conftest import Floor
from tests.personalization.conftest import REPO
from tests.station.conftest import OPERATOR, Stage, batched_applications, card_rows, station_env
from tests.station.test_station_pcsc import remove_when_locked, run_station, stalling
from tests.web.pages import sign_in
from workers.personalization import enqueue_personalization
from workers.station import open_station

ROW = re.compile(r'<tr id="station-(?P<code>[A-Z0-9]+)" class="(?P<cls>\w+)">(?P<body>.*?)</tr>', re.S)


def station_rows(client: TestClient) -> dict[str, tuple[str, str]]:
    """Each station's row on the live fragment: (class, row HTML)."""
    r = client.get("/operators/stations/live")
    assert r.status_code == 200, r.text
    return {m["code"]: (m["cls"], m["body"]) for m in ROW.finditer(r.text)}


def cell(body: str, name: str) -> str:
    found = re.search(rf'<td class="{name}">(.*?)</td>', body, re.S)
    assert found, body
    return found.group(1).strip()


def english(client: TestClient) -> None:
    """Switch the signed-in user's screens to English."""
    page = client.get("/operators/stations")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token.group(1)})


def station_row(stage: Stage, code: str = "S1") -> Station:
    with stage.rt.db.session() as s:
        return s.scalars(select(Station).where(Station.code == code)).one()


def test_the_station_loop_reports_each_step_and_the_page_shows_it(stage: Stage, client: TestClient,
                                                                  tmp_path: Path) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    sign_in(client, OPERATOR)
    english(client)
    seen: dict[Step, tuple[bool | None, int | None, str | None]] = {}
    pages: list[str] = []

    def observer(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        if outcome is None:
            row = station_row(stage)
            seen[step] = (row.card_present, row.current_card_id, row.current_step)
            if step is Step.WRITE_LDS:
                pages.append(station_rows(client)["S1"][1])

    feeder = stage.stock(tmp_path / "stock", [1, 2])
    station = open_station(stage.rt, stage.jobs, stage.keystore, "S1", feeder, observer=observer,
                           card_timeout=0.5, operator=OPERATOR)
    stats = station.run()
    assert stats.personalized == 1
    [card] = card_rows(stage.rt, app_id)
    assert seen == {step: (True, card.id, step.value) for step in Step}
    with stage.rt.db.session() as s:
        app_number = s.get_one(Application, app_id).number
    [body] = pages
    assert cell(body, "card-present") == "yes" and cell(body, "step") == "writing the document data"
    assert app_number in cell(body, "job") and str(card.document_number) in cell(body, "job")
    after = station_row(stage)
    assert after.seen_at is not None and (after.card_present, after.current_card_id, after.current_step) == (
        False, None, "stopped")
    cls, body = station_rows(client)["S1"]
    assert cls == "offline" and cell(body, "status") == "stopped"
    assert cell(body, "done") == "1" and cell(body, "spoiled") == "0"


def test_heartbeats_are_one_update_and_never_audited(floor: Floor) -> None:
    station_id = floor.station_id("S1")
    with floor.db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    for present in (True, False, True):
        with floor.db.transaction() as s:
            assert record_beat(s, station_id, card_present=present, card_id=None, step="identify") is None
    with floor.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
        assert s.get_one(Station, station_id).card_present is True


def test_a_stale_station_is_shown_offline_and_a_fresh_one_online(floor: Floor, client: TestClient) -> None:
    [card_id] = floor.locked_cards("clerk1", 1, station="S1")
    now = utcnow()
    with floor.db.transaction() as s:
        s.execute(update(Station).where(Station.code == "S1").values(
            seen_at=now - dt.timedelta(minutes=5), card_present=True, current_card_id=card_id,
            current_step="write_lds"))
        s.execute(update(Station).where(Station.code == "S2").values(
            seen_at=now, card_present=True, current_card_id=card_id, current_step="verify"))
    floor.sign_in(client, "op1")
    english(client)
    rows = station_rows(client)
    assert set(rows) == {"S1", "S2"}  # EAST's station is not HQ's operator's to see
    stale_cls, stale = rows["S1"]
    assert stale_cls == "offline" and cell(stale, "status") == "offline"
    # What a silent station last said is no longer shown as happening.
    assert cell(stale, "card-present") == "no" and cell(stale, "step") == "—" and cell(stale, "job") == "—"
    fresh_cls, fresh = rows["S2"]
    assert fresh_cls == "online" and cell(fresh, "step") == "reading back and verifying"
    assert floor.number(card_id) in cell(fresh, "job")
    floor.sign_in(client, "op2")
    english(client)
    [(cls, body)] = station_rows(client).values()
    assert cls == "offline" and cell(body, "status") == "never seen"


def _audits(stage: Stage, action: str) -> list[AuditEvent]:
    with stage.rt.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _station_only(stage: Stage) -> None:
    make_user(stage.rt.db, OPERATOR, Role.OPERATOR)
    with stage.rt.db.transaction() as s:
        add_station(s, "S1", "HQ", "", actor="test")


def test_self_test_round_trip_through_the_page_and_a_running_station(stage: Stage, client: TestClient,
                                                                      tmp_path: Path) -> None:
    _station_only(stage)
    sign_in(client, OPERATOR)
    english(client)
    r = client.post("/operators/stations/S1/self-test", data={"csrf_token": _csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    [asked] = _audits(stage, "station.self_test_requested")
    assert asked.actor == OPERATOR and asked.entity_id == "S1"
    body = station_rows(client)["S1"][1]
    assert "the station runs it at its next heartbeat" in body and "not run yet" in body
    station = open_station(stage.rt, stage.jobs, stage.keystore, "S1", stage.stock(tmp_path / "stock", [1]),
                           card_timeout=0.5, operator=OPERATOR)
    station.run()  # no work: it stops at once, answering the request first
    result = station_row(stage).self_test_result
    assert result is not None and result["passed"] is True
    assert [c["name"] for c in result["checks"]] == [s.value for s in Step]
    [answer] = _audits(stage, "station.self_tested")
    assert answer.actor == OPERATOR and '"passed": true' in answer.details
    body = station_rows(client)["S1"][1]
    assert "next heartbeat" not in body and "<strong>pass</strong>" in body
    assert body.count('<li class="pass">') == len(Step)
    station.monitor.tick()  # a request is answered once
    assert len(_audits(stage, "station.self_tested")) == 1


def test_station_run_command_beats_and_answers_a_self_test(stage: Stage, client: TestClient,
                                                          tmp_path: Path) -> None:
    """The real `issuance station run` process: its heartbeat and its self-test answer reach the page."""
    _station_only(stage)
    sign_in(client, OPERATOR)
    client.post("/operators/stations/S1/self-test", data={"csrf_token": _csrf(client)})
    stage.stock(tmp_path / "stock", [41])
    done = subprocess.run([sys.executable, "-m", "issuance", "station", "run", "--station", "S1",
                           "--stock", str(tmp_path / "stock"), "--wait", "0"],
                          cwd=REPO, env=station_env(stage.rt.settings), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    row = station_row(stage)
    assert row.seen_at is not None and row.self_test_result is not None
    assert row.self_test_result["passed"] is True
    cls, body = station_rows(client)["S1"]
    assert cell(body, "status") == "متوقفة" and 'class="pass"' in body  # Arabic: the default language


@pytest.mark.pcsc
def test_the_page_follows_a_station_process_on_a_pcsc_reader(stage: Stage, slot: VirtualReaderSlot,
                                                             client: TestClient) -> None:
    """`station run --reader` through pcscd and vpcd: the card stalls mid-write; the page shows it."""
    [app_id] = batched_applications(stage.rt, 1)
    sign_in(client, OPERATOR)
    english(client)
    card = stalling(stage, 0x7011)
    slot.insert(card)
    station = run_station(stage, "--once")
    try:
        assert card.stalled.wait(60), station.communicate(timeout=5)[0]
        cls, body = station_rows(client)["S1"]
        card.release.set()
        threading.Thread(target=remove_when_locked, args=(slot, card)).start()  # the operator
        output, _ = station.communicate(timeout=60)
    finally:
        card.release.set()
        if station.poll() is None:
            station.kill()
    assert station.returncode == 0, output
    [row] = card_rows(stage.rt, app_id)
    assert cls == "online" and cell(body, "card-present") == "yes"
    assert cell(body, "step") == "writing the document data" and str(row.document_number) in cell(body, "job")
    cls, body = station_rows(client)["S1"]  # the station stopped after its one card
    assert cls == "offline" and (cell(body, "status"), cell(body, "card-present"), cell(body, "done")) == (
        "stopped", "no", "1")


def _csrf(client: TestClient) -> str:
    page = client.get("/operators/stations")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found
    return found.group(1)


class FlakyBoard:
    """A board whose database is down for its first beats; records what reached it."""

    def __init__(self, failures: int, token: str | None = None) -> None:
        self.failures, self.token = failures, token
        self.beats: list[StationStatus] = []
        self.answers: list[tuple[str, bool]] = []
        self.stops = 0

    def beat(self, status: StationStatus) -> str | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        self.beats.append(status)
        return self.token

    def self_tested(self, token: str, report: SelfTestReport) -> None:
        self.answers.append((token, report.passed))

    def stopped(self) -> None:
        self.stops += 1


def _report() -> SelfTestReport:
    now = dt.datetime.now(dt.UTC)
    return SelfTestReport([Check("identify", True)], now, now)


def test_the_monitor_outlives_a_failing_board_and_answers_each_request_once() -> None:
    board = FlakyBoard(failures=2, token="t1")
    runs: list[int] = []
    monitor = Monitor(board, lambda: runs.append(1) or _report(), every=3600)
    monitor.update(card_present=True)  # lost: the board is down
    monitor.update(job_id="A#1", step="identify")  # lost too
    monitor.update(step="write_lds")
    assert board.beats == [StationStatus(True, "A#1", "write_lds")]
    monitor.update(step="write_lds")  # no change, no write
    assert len(board.beats) == 1
    monitor.tick()
    monitor.tick()
    assert runs == [1] and board.answers == [("t1", True)]


def test_the_monitor_thread_answers_a_request_seen_at_start_before_stopping() -> None:
    board = FlakyBoard(failures=0, token="t2")
    ran = threading.Event()
    monitor = Monitor(board, lambda: ran.set() or _report(), every=3600)
    with monitor:
        pass
    assert ran.is_set() and board.answers == [("t2", True)] and board.stops == 1


@pytest.mark.parametrize("junk", ["S%201", "x" * 41, "S1;drop", "%00"])
def test_junk_station_codes_get_a_clear_4xx(floor: Floor, client: TestClient, junk: str) -> None:
    csrf = floor.sign_in(client, "op1")
    r = client.post(f"/operators/stations/{junk}/self-test", data={"csrf_token": csrf})
    assert r.status_code == 422 and "code" in r.text


def test_unknown_and_other_sites_stations_are_not_found(floor: Floor, client: TestClient) -> None:
    csrf = floor.sign_in(client, "op1")
    for code in ("E1", "NOPE"):
        r = client.post(f"/operators/stations/{code}/self-test", data={"csrf_token": csrf})
        assert r.status_code == 404 and f"station {code} does not exist" in r.text
    with floor.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Station).where(
            Station.self_test_requested_at.is_not(None))) == 0


def test_cards_done_and_spoiled_today_count_this_station_only(floor: Floor, client: TestClient) -> None:
    done = floor.locked_cards("clerk1", 3, station="S1")
    floor.locked_cards("clerk1", 1, station="S2", seed=2)
    with floor.db.transaction() as s:
        # One card of S1 spoiled today, one yesterday: only today's counts.
        s.execute(update(Card).where(Card.id == done[0]).values(state="spoiled"))
        s.execute(update(Card).where(Card.id == done[1]).values(
            state="spoiled", updated_at=utcnow() - dt.timedelta(days=2)))
    floor.sign_in(client, "op1")
    rows = station_rows(client)
    assert (cell(rows["S1"][1], "done"), cell(rows["S1"][1], "spoiled")) == ("1", "1")
    assert (cell(rows["S2"][1], "done"), cell(rows["S2"][1], "spoiled")) == ("1", "0")
