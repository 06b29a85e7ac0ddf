"""`issuance station self-test`: personalize and verify a specimen card, pass/fail per step."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Protocol

import click

from personalization.station.loop import Job, Observer
from personalization.station.result import Step, StepOutcome
from personalization.station.self_test import specimen_run
from personalization.status_words import TransportError
from personalization.transport.pcsc import PcscTransport


def _report(step: Step, outcome: StepOutcome | None) -> None:
    if outcome is None:
        return
    mark = "pass" if outcome.ok else "FAIL"
    detail = f"  {outcome.detail}" if outcome.detail else ""
    sw = f" SW {outcome.sw:04X}" if outcome.sw is not None else ""
    click.echo(f"{mark}  {step.value:14} {outcome.apdus:3} APDUs {outcome.ms:7.1f} ms{sw}{detail}")


@click.command("self-test")
@click.option("--reader", help="Personalize the blank training card in this PC/SC reader instead of an "
                               "in-process virtual card.")
def self_test(reader: str | None) -> None:
    """Personalize, verify and lock a specimen card with a throwaway training PKI; exit 1 on failure.

    Training stock only: the card's keys come from the public GlobalPlatform test key.
    """
    try:
        report = specimen_run(PcscTransport(reader) if reader is not None else None, _report)
    except TransportError as exc:
        raise click.ClickException(f"no card to test: {exc}") from exc
    if not report.passed:
        click.echo(f"self-test FAILED at {report.failure}")
        sys.exit(1)
    click.echo(f"self-test passed: card {report.serial}, {report.apdus} APDUs")


def step_progress(label: Callable[[Job], str]) -> tuple[Observer, Callable[[], None]]:
    """An observer drawing one progress bar per card (a step per tick) and a function to close it."""
    bars: dict[str, Any] = {}

    def observe(job: Job, step: Step, outcome: StepOutcome | None) -> None:
        if outcome is None:
            if job.job_id not in bars:
                bars.clear()
                new = click.progressbar(length=len(Step), label=label(job), show_pos=True)
                bars[job.job_id] = new.__enter__()
            return
        current = bars.get(job.job_id)
        if current is not None:
            current.update(1)
            if not outcome.ok or step is Step.LOCK:
                current.__exit__(None, None, None)
                bars.pop(job.job_id)
                _report(step, outcome)

    def close() -> None:
        for open_bar in bars.values():
            open_bar.__exit__(None, None, None)
        bars.clear()

    return observe, close


class Stoppable(Protocol):
    def stop(self) -> None: ...


@contextmanager
def stop_on_interrupt(loop: Stoppable) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks the loop to stop after the current card, finished or spoiled."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        click.echo("\nstopping after the current card...", err=True)
        loop.stop()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
