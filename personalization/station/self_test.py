"""The station's self-test: personalize, verify and lock a specimen card with a throwaway training PKI.

Training stock only: the card's keys come from the public GlobalPlatform test key, so the test
never touches the issuer's keys. Without a transport the card is an in-process virtual card.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from personalization.protocol.kdf import GP_TEST_KEY
from personalization.station import specimen, training_pki
from personalization.station.result import PersonalizationError, Step, StepOutcome
from personalization.station.steps import CardOrder, personalize
from personalization.status_words import TransportError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import list_readers
from personalization.virtual_card import VirtualCard

StepObserver = Callable[[Step, StepOutcome | None], None]


@dataclass(frozen=True)
class Check:
    """One thing the self-test tried: a personalization step, or the station's reader."""

    name: str
    ok: bool
    ms: float = 0.0
    detail: str = ""

    @classmethod
    def of(cls, outcome: StepOutcome) -> Check:
        sw = f"SW {outcome.sw:04X} " if outcome.sw is not None else ""
        return cls(outcome.step.value, outcome.ok, round(outcome.ms, 1), f"{sw}{outcome.detail}".strip())


@dataclass(frozen=True)
class SelfTestReport:
    """Pass or fail, each check, and when it ran."""

    checks: list[Check]
    started_at: dt.datetime
    finished_at: dt.datetime
    failure: str = ""
    serial: int | None = None
    apdus: int = 0

    @property
    def passed(self) -> bool:
        return not self.failure and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The report as stored beside the station (plain JSON types only)."""
        return {"passed": self.passed, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat(), "failure": self.failure,
                "apdus": self.apdus, "checks": [c.__dict__ for c in self.checks]}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def specimen_run(transport: Transport | None = None, observer: StepObserver | None = None) -> SelfTestReport:
    """Personalize the specimen card; a step that fails ends the run. TransportError when no card is there."""
    started = _now()
    pki = training_pki.generate(GP_TEST_KEY)
    order = CardOrder(specimen.document(), specimen.holder())
    card = transport or InProcessTransport(VirtualCard.blank(1, GP_TEST_KEY))
    outcomes: list[StepOutcome] = []

    def observe(step: Step, outcome: StepOutcome | None) -> None:
        if outcome is not None:
            outcomes.append(outcome)
        if observer:
            observer(step, outcome)

    def checks() -> list[Check]:
        return [Check.of(o) for o in outcomes]

    try:
        with card:
            result = personalize(card, pki, order, observe)
    except PersonalizationError as exc:
        return SelfTestReport(checks(), started, _now(), f"{exc.step.value}: {exc.reason}")
    return SelfTestReport(checks(), started, _now(), serial=result.serial, apdus=result.apdus)


def reader_check(reader: str) -> Check:
    """The station's PC/SC reader is there (pcscd lists it)."""
    start = time.perf_counter()
    try:
        found = list_readers()
    except TransportError as exc:
        return Check("reader", False, 0.0, str(exc))
    ms = round((time.perf_counter() - start) * 1000, 1)
    if any(reader == name or reader in name for name in found):
        return Check("reader", True, ms, reader)
    return Check("reader", False, ms, f"no reader named {reader!r}; have {found}")


def station_self_test(reader: str | None) -> SelfTestReport:
    """What a running station checks when asked: its reader (if it has one), then the specimen card.

    The specimen is an in-process virtual card: the card in the reader belongs to the station's work.
    """
    started = _now()
    first = [reader_check(reader)] if reader else []
    try:
        report = specimen_run()
    except TransportError as exc:  # an in-process card has no reader to lose; kept as a failure anyway
        return SelfTestReport(first, started, _now(), f"specimen card: {exc}")
    failure = report.failure or next((f"{c.name}: {c.detail}" for c in first if not c.ok), "")
    return SelfTestReport([*first, *report.checks], started, report.finished_at, failure, report.serial,
                          report.apdus)
