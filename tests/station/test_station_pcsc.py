"""The station through the real pcscd (vpcd): a card on the database path, and a station killed mid-card."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from issuance.states import ApplicationState, CardState
from personalization.lds import profile
from personalization.station.feeders import ReaderFeeder
from personalization.station.loop import Job
from personalization.station.result import Step, StepOutcome
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import VirtualCard
from personalization.vpcd import VirtualReaderSlot
from tests.factories import application_state
from tests.personalization.conftest import REPO, worker_reader
from tests.station.conftest import Stage, batched_applications, card_rows, station_env
from tests.station.test_station_db import assert_locked
from workers.personalization import enqueue_personalization, reconcile_personalization
from workers.station import open_station

A, C = ApplicationState, CardState
UPDATE_BINARY = 0xD6
pytestmark = pytest.mark.pcsc


@pytest.mark.parametrize("keystore_kind", ["software", "pkcs11"], indirect=True)
def test_a_batched_application_is_personalized_through_pcscd(stage: Stage, slot: VirtualReaderSlot,
                                                             tmp_path: Path) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    enqueue_personalization(stage.rt, stage.jobs, [app_id])
    card = stage.blank(0x7001)
    slot.insert(card)

    def operator(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        if step is Step.LOCK and outcome is not None:
            threading.Thread(target=slot.remove).start()  # the operator takes the card out

    station = open_station(stage.rt, stage.jobs, stage.keystore, "S1",
                           ReaderFeeder(worker_reader()[1], removal_timeout=10), observer=operator,
                           card_timeout=5)
    stats = station.loop.run(once=True)
    assert stats.personalized == 1
    assert_locked(stage, app_id, InProcessTransport(card), tmp_path)


class StallingCard(VirtualCard):
    """A card that stops answering at its first UPDATE BINARY, as a slow chip would, until released."""

    stalled: threading.Event
    release: threading.Event

    def process(self, raw: bytes) -> bytes:
        if len(raw) > 1 and raw[1] == UPDATE_BINARY:
            self.stalled.set()
            self.release.wait(30)
        return super().process(raw)


def stalling(stage: Stage, serial: int) -> StallingCard:
    card = stage.blank(serial)
    card.__class__ = StallingCard
    assert isinstance(card, StallingCard)
    card.stalled, card.release = threading.Event(), threading.Event()
    return card


def remove_when_locked(slot: VirtualReaderSlot, card: VirtualCard) -> None:
    deadline = time.monotonic() + 30
    while card.state.life_cycle != profile.SECURED and time.monotonic() < deadline:
        time.sleep(0.05)
    slot.remove()


def run_station(stage: Stage, *options: str) -> subprocess.Popen[str]:
    """`issuance station run` on this worker's reader, as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "issuance", "station", "run", "--station", "S1",
         "--reader", worker_reader()[1], *options],
        cwd=REPO, env=station_env(stage.rt.settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def test_ctrl_c_finishes_the_current_card_and_stops(stage: Stage, slot: VirtualReaderSlot) -> None:
    first, second = batched_applications(stage.rt, 2)
    card = stalling(stage, 0x7004)
    slot.insert(card)
    station = run_station(stage)
    try:
        assert card.stalled.wait(60), station.communicate(timeout=5)[0]
        station.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the handler runs in the station while the card is still stalled
        card.release.set()
        threading.Thread(target=remove_when_locked, args=(slot, card)).start()  # the operator
        output, _ = station.communicate(timeout=60)
    finally:
        card.release.set()
        if station.poll() is None:
            station.kill()
    assert station.returncode == 0, output
    assert "stopping after the current card" in output and "1 personalized, 0 spoiled" in output
    states = {application_state(stage.rt.db, i) for i in (first, second)}
    assert states == {A.PERSONALIZED, A.BATCHED}  # the second application was never claimed


def test_a_station_killed_mid_card_is_recovered_by_the_reconciler(stage: Stage, slot: VirtualReaderSlot,
                                                                   tmp_path: Path) -> None:
    [app_id] = batched_applications(stage.rt, 1)
    card = stalling(stage, 0x7002)
    slot.insert(card)
    station = run_station(stage, "--once")
    try:
        assert card.stalled.wait(60), station.communicate(timeout=5)[0]
        [writing] = card_rows(stage.rt, app_id)
        assert writing.state == C.ENCODING and writing.chip_serial == str(0x7002)
        os.kill(station.pid, signal.SIGKILL)
        station.wait(10)
    finally:
        card.release.set()
        if station.poll() is None:
            station.kill()
    slot.remove()
    time.sleep(2.2)  # the killed station's lease lapses
    assert reconcile_personalization(stage.rt, stage.jobs) == ([writing.id], [app_id])
    assert application_state(stage.rt.db, app_id) == A.BATCHED
    stats = stage.station(stage.stock(tmp_path / "stock", [0x7003])).loop.run()
    assert stats.personalized == 1
    spoiled, locked = card_rows(stage.rt, app_id)
    assert (spoiled.state, spoiled.failure_step, locked.state) == (C.SPOILED, "lease_expired", C.LOCKED)
    assert application_state(stage.rt.db, app_id) == A.PERSONALIZED
