"""The station loop over a blank-stock folder and over a pcscd reader; spoiled cards and stop()."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from personalization.cli_station import step_progress, stop_on_interrupt
from personalization.lds import profile
from personalization.station.feeders import SPOILED, USED, ReaderFeeder, StockFeeder
from personalization.station.loop import Job, StationLoop
from personalization.station.ports import StationPki
from personalization.station.result import PersonalizationError, PersonalizationResult, Step, StepOutcome
from personalization.station.steps import CardOrder
from personalization.virtual_card import VirtualCard
from personalization.vpcd import VirtualReaderSlot
from tests.personalization.conftest import MASTER_KEY, worker_reader


class Queue:
    """The station's job source as the pipeline uses it: a failed job goes back for a new card."""

    def __init__(self, jobs: list[Job]) -> None:
        self.waiting = list(jobs)
        self.done: list[tuple[str, PersonalizationResult]] = []
        self.failures: list[tuple[str, Step, int | None]] = []

    def claim(self) -> Job | None:
        return self.waiting.pop(0) if self.waiting else None

    def encoding(self, job: Job, result: PersonalizationResult) -> None:
        assert result.serial is not None and result.atr  # known before the first write

    def succeeded(self, job: Job, result: PersonalizationResult) -> None:
        self.done.append((job.job_id, result))

    def failed(self, job: Job, error: PersonalizationError, result: PersonalizationResult) -> None:
        self.failures.append((job.job_id, error.step, error.sw))
        self.waiting.insert(0, job)


def _stock(folder: Path, serials: list[int], foreign: set[int] = frozenset()) -> StockFeeder:
    folder.mkdir()
    for serial in serials:
        VirtualCard.blank(serial, bytes(16) if serial in foreign else MASTER_KEY,
                          folder / f"card-{serial:010d}.json")
    return StockFeeder(folder)


def test_stock_loop_spoils_a_foreign_card_and_retries_the_job(tmp_path: Path, pki: StationPki,
                                                              order: CardOrder) -> None:
    feeder = _stock(tmp_path / "stock", [1, 2, 3], foreign={1})
    queue = Queue([Job("A-1", order), Job("A-2", order)])
    stats = StationLoop(queue, feeder, pki, card_timeout=0.2).run()
    assert (stats.personalized, stats.spoiled) == (2, 1)
    assert queue.failures == [("A-1", Step.OPEN_CHANNEL, 0x6300)]
    assert [job for job, _ in queue.done] == ["A-1", "A-2"]
    assert sorted(p.name for p in (tmp_path / "stock" / USED).iterdir()) == [
        "card-0000000002.json", "card-0000000003.json"]
    assert [p.name for p in (tmp_path / "stock" / SPOILED).iterdir()] == ["card-0000000001.json"]
    locked = VirtualCard.load(tmp_path / "stock" / USED / "card-0000000002.json")
    assert locked.state.life_cycle == profile.SECURED


def test_no_job_returns_the_card_to_the_stock(tmp_path: Path, pki: StationPki) -> None:
    feeder = _stock(tmp_path / "stock", [5])
    stats = StationLoop(Queue([]), feeder, pki, card_timeout=0.2).run()
    assert stats.personalized == stats.spoiled == 0 and feeder.remaining() == 1


def test_stop_finishes_the_current_card_first(tmp_path: Path, pki: StationPki, order: CardOrder) -> None:
    feeder = _stock(tmp_path / "stock", [7, 8, 9])
    queue = Queue([Job(f"A-{i}", order) for i in range(3)])
    steps: list[Step] = []

    def observer(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        if outcome is None:
            steps.append(step)
        if step is Step.WRITE_LDS and outcome is None:
            loop.stop()  # what the Ctrl-C handler does

    loop = StationLoop(queue, feeder, pki, observer, card_timeout=0.2)
    stats = loop.run()
    assert stats.personalized == 1 and steps == list(Step) and feeder.remaining() == 2


@pytest.mark.pcsc
def test_reader_loop_through_pcscd(slot: VirtualReaderSlot, pki: StationPki, order: CardOrder) -> None:
    _, name = worker_reader()
    card = VirtualCard.blank(0x9001, MASTER_KEY)
    slot.insert(card)

    def observer(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        if step is Step.LOCK and outcome is not None:
            threading.Thread(target=slot.remove).start()  # the operator takes the card out

    queue = Queue([Job("A-9", order)])
    stats = StationLoop(queue, ReaderFeeder(name, removal_timeout=10), pki, observer, card_timeout=5).run(
        once=True)
    assert stats.personalized == 1 and card.state.life_cycle == profile.SECURED


def test_ctrl_c_stops_after_the_current_card(tmp_path: Path, pki: StationPki, order: CardOrder,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    feeder = _stock(tmp_path / "stock", [11, 12, 13])
    queue = Queue([Job(f"A-{i}", order) for i in range(3)])
    progress, close = step_progress(lambda job: job.job_id)

    def observer(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        progress(job, step, outcome)
        if step is Step.HOLDER_KEY and outcome is None:
            os.kill(os.getpid(), signal.SIGINT)

    loop = StationLoop(queue, feeder, pki, observer, card_timeout=0.2)
    with stop_on_interrupt(loop):
        stats = loop.run()
    close()
    assert stats.personalized == 1 and feeder.remaining() == 2 and len(queue.waiting) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    out = capsys.readouterr()
    assert "pass  lock" in out.out and "stopping after the current card" in out.err
