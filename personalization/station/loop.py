"""The encoding station's loop: claim a job, take a card, personalize, verify, lock, report, next.

The job source (the database and the station's queue) is a port: the loop never half-records a card.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from personalization.station.feeders import IDLE, CardFeeder, Outcome
from personalization.station.monitor import Monitor
from personalization.station.ports import StationPki
from personalization.station.result import PersonalizationError, PersonalizationResult, Step, StepOutcome
from personalization.station.steps import CardOrder, Personalizer
from personalization.transport.base import Transport


@dataclass(frozen=True)
class Job:
    """One application to put on a card."""

    job_id: str
    order: CardOrder


class JobSource(Protocol):
    """The station's queue: claim, then report exactly once per claimed job and card."""

    def claim(self) -> Job | None: ...

    def encoding(self, job: Job, result: PersonalizationResult) -> None:
        """The card is identified and about to be written: record the intent (raise to refuse the card)."""
        ...

    def succeeded(self, job: Job, result: PersonalizationResult) -> None: ...

    def failed(self, job: Job, error: PersonalizationError, result: PersonalizationResult) -> None: ...


# What the monitor shows once a card is finished, until the card is taken out.
DONE, SPOILED = "done", "spoiled"
Observer = Callable[[Job, Step, StepOutcome | None], None]


@dataclass
class LoopStats:
    personalized: int = 0
    spoiled: int = 0


class StationLoop:
    """Runs until stop() (e.g. from a Ctrl-C handler), no job, no card in card_timeout, or one card (once)."""

    def __init__(self, source: JobSource, feeder: CardFeeder, pki: StationPki,
                 observer: Observer | None = None, card_timeout: float | None = None,
                 monitor: Monitor | None = None) -> None:
        self.source = source
        self.feeder = feeder
        self.pki = pki
        self.observer = observer
        self.card_timeout = card_timeout
        self.monitor = monitor
        self.stats = LoopStats()
        self._stop = threading.Event()

    def __repr__(self) -> str:
        return f"StationLoop({self.feeder!r})"

    def stop(self) -> None:
        """Finish (or spoil) the current card, then return; never interrupts a card half-way."""
        self._stop.set()

    def _wait_for_card(self) -> Transport | None:
        """Poll the feeder so that stop() is heard while no card is in."""
        deadline = None if self.card_timeout is None else time.monotonic() + self.card_timeout
        while not self._stop.is_set():
            left = IDLE if deadline is None else min(IDLE, deadline - time.monotonic())
            if left <= 0:
                return None
            transport = self.feeder.next_card(left)
            if transport is not None:
                return transport
        return None

    def _report(self, **changes: object) -> None:
        if self.monitor is not None:
            self.monitor.update(**changes)

    def _release(self, transport: Transport, outcome: Outcome) -> None:
        self.feeder.release(transport, outcome)
        self._report(card_present=False, job_id=None, step=None)

    def run(self, once: bool = False) -> LoopStats:
        while not self._stop.is_set():
            transport = self._wait_for_card()
            if transport is None:
                break
            self._report(card_present=True)
            job = self.source.claim()
            if job is None:
                self._release(transport, "unused")
                break
            self._one(job, transport)
            if once:
                break
        return self.stats

    def _one(self, job: Job, transport: Transport) -> None:
        def observe(step: Step, outcome: StepOutcome | None) -> None:
            if outcome is None:
                self._report(job_id=job.job_id, step=step.value)
            if self.observer:
                self.observer(job, step, outcome)

        personalizer = Personalizer(transport, self.pki, observe,
                                    lambda result: self.source.encoding(job, result))
        try:
            result = personalizer.run(job.order)
        except PersonalizationError as exc:
            self.source.failed(job, exc, personalizer.result)
            self._report(step=SPOILED)
            self._release(transport, "spoiled")
            self.stats.spoiled += 1
            return
        self.source.succeeded(job, result)
        self._report(step=DONE)
        self._release(transport, "personalized")
        self.stats.personalized += 1
