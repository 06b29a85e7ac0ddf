"""What a running station tells the operators' screen: card present, job, step, a heartbeat, self-tests.

The status goes to a `StatusBoard` port (the stations table, on the database side): written at
once on every change the loop reports, and every few seconds from a thread of its own, so a
station waiting for a job or for its card to be taken out still shows as alive. A self-test
somebody asked for is seen on a heartbeat and run on that thread, between heartbeats.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from personalization.station.self_test import SelfTestReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StationStatus:
    """The station as it is now: a card in it, the job on it and the step under way."""

    card_present: bool = False
    job_id: str | None = None
    step: str | None = None


class StatusBoard(Protocol):
    """Where a station's status is kept for others to see."""

    def beat(self, status: StationStatus) -> str | None:
        """Record the status as of now; the token of a self-test request waiting for an answer, if any."""
        ...

    def self_tested(self, token: str, report: SelfTestReport) -> None:
        """Record the answer to the self-test request `token`."""
        ...

    def stopped(self) -> None:
        """The station stopped on purpose (not a silent crash): no card, no job, not running."""
        ...


class Monitor:
    """Keeps the board up to date for one station; `update` from the loop, heartbeats from a thread."""

    def __init__(self, board: StatusBoard, self_test: Callable[[], SelfTestReport], every: float) -> None:
        self.board = board
        self.self_test = self_test
        self.every = every
        self.status = StationStatus()
        self._lock = threading.Lock()  # one write at a time, and the last write carries the last status
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._wanted: str | None = None
        self._answered: str | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Monitor({self.status})"

    def update(self, **changes: Any) -> None:
        """The loop's news (card_present, job_id, step): written at once when anything changed."""
        with self._lock:
            new = replace(self.status, **changes)
            if new == self.status:
                return
            self.status = new
            self._write()

    def tick(self) -> None:
        """One heartbeat, then the self-test it found waiting (if any)."""
        with self._lock:
            self._write()
        self._answer()

    def _write(self) -> None:
        try:
            token = self.board.beat(self.status)
        except Exception:  # the screen is told nothing for a while; the card itself must not suffer
            log.exception("station status could not be recorded")
            return
        if token is not None and token != self._answered:
            self._wanted = token
            self._wake.set()

    def _answer(self) -> None:
        token = self._wanted
        if token is None:
            return
        self._wanted, self._answered = None, token
        try:
            report = self.self_test()
            self.board.self_tested(token, report)
        except Exception:
            log.exception("station self-test could not be run or recorded")

    def start(self) -> None:
        """A first heartbeat now, then one every `every` seconds until stop()."""
        with self._lock:
            self._write()
        self._thread = threading.Thread(target=self._run, name="station-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._answer()  # a request seen before stop() is still answered
            if self._stop.is_set():
                return
            self._wake.wait(self.every)
            self._wake.clear()
            if not self._stop.is_set():
                with self._lock:
                    self._write()

    def stop(self) -> None:
        """Answer a self-test already asked for, stop beating, and say so on the board."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self.status = StationStatus()
            try:
                self.board.stopped()
            except Exception:
                log.exception("station stop could not be recorded")

    def __enter__(self) -> Monitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
