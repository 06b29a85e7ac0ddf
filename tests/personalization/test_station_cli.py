"""`issuance station self-test` in-process and on a training card in a pcscd reader."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from issuance.cli.main import main
from personalization.lds import profile
from personalization.protocol.kdf import GP_TEST_KEY
from personalization.station.result import Step
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import FaultPlan, VirtualCard
from personalization.vpcd import VirtualReaderSlot
from tests.personalization.conftest import worker_reader


def test_self_test_in_process() -> None:
    result = CliRunner().invoke(main, ["station", "self-test"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [s.value for s in Step]
    assert all(line.startswith("pass") for line in lines[:-1])


@pytest.mark.pcsc
def test_self_test_on_a_reader(slot: VirtualReaderSlot) -> None:
    _, name = worker_reader()
    card = VirtualCard.blank(7, GP_TEST_KEY)
    slot.insert(card)
    PcscTransport(name).wait_for_card(timeout=5)
    result = CliRunner().invoke(main, ["station", "self-test", "--reader", name])
    assert result.exit_code == 0, result.output
    assert card.state.life_cycle == profile.SECURED


@pytest.mark.pcsc
def test_self_test_reports_the_failing_step(slot: VirtualReaderSlot) -> None:
    _, name = worker_reader()
    card = VirtualCard.blank(8, GP_TEST_KEY)
    card.faults = FaultPlan(status_for_ins={0x47: 0x6A84})
    slot.insert(card)
    PcscTransport(name).wait_for_card(timeout=5)
    result = CliRunner().invoke(main, ["station", "self-test", "--reader", name])
    assert result.exit_code == 1
    assert "FAIL  chip_keys" in result.output and "SW 6A84" in result.output


def test_self_test_without_a_card_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["station", "self-test", "--reader", "no such reader"])
    assert result.exit_code == 1 and "no card to test" in result.output
