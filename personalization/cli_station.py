"""`issuance station self-test`: personalize and verify a specimen card, pass/fail per step."""

from __future__ import annotations

import sys

import click

from personalization.lds import builder
from personalization.protocol.kdf import GP_TEST_KEY
from personalization.station import specimen, training_pki
from personalization.station.ports import HolderSubject
from personalization.station.result import PersonalizationError, Step, StepOutcome
from personalization.station.steps import CardOrder, personalize
from personalization.status_words import TransportError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import VirtualCard


@click.group(name="station")
def station() -> None:
    """Encoding stations."""


def _report(step: Step, outcome: StepOutcome | None) -> None:
    if outcome is None:
        return
    mark = "pass" if outcome.ok else "FAIL"
    detail = f"  {outcome.detail}" if outcome.detail else ""
    sw = f" SW {outcome.sw:04X}" if outcome.sw is not None else ""
    click.echo(f"{mark}  {step.value:14} {outcome.apdus:3} APDUs {outcome.ms:7.1f} ms{sw}{detail}")


@station.command("self-test")
@click.option("--reader", help="Personalize the blank training card in this PC/SC reader instead of an "
                               "in-process virtual card.")
def self_test(reader: str | None) -> None:
    """Personalize, verify and lock a specimen card with a throwaway training PKI; exit 1 on failure.

    Training stock only: the card's keys come from the public GlobalPlatform test key.
    """
    pki = training_pki.generate(GP_TEST_KEY)
    person = specimen.holder()
    order = CardOrder(builder.build(specimen.document(), person, pki.document_signer),
                      HolderSubject.of(person))
    transport: Transport = (PcscTransport(reader) if reader is not None
                            else InProcessTransport(VirtualCard.blank(1, GP_TEST_KEY)))
    try:
        with transport:
            result = personalize(transport, pki, order, _report)
    except PersonalizationError as exc:
        click.echo(f"self-test FAILED at {exc.step.value}: {exc}")
        sys.exit(1)
    except TransportError as exc:
        raise click.ClickException(f"no card to test: {exc}") from exc
    click.echo(f"self-test passed: card {result.serial}, {result.apdus} APDUs")
