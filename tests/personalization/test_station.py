"""One card personalized, verified and locked, over both transports; tears and refusals (issue 12)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from personalization import commands
from personalization.apdu import CommandAPDU
from personalization.lds import profile
from personalization.station import training_pki
from personalization.station.ports import StationPki
from personalization.station.result import CardRefused, PersonalizationError, Step
from personalization.station.steps import CardOrder, personalize
from personalization.status_words import SW
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.virtual_card import FaultPlan, VirtualCard
from tests.personalization.conftest import MASTER_KEY


def test_personalize_verify_and_lock(transport: Transport, blank_card: VirtualCard, pki: StationPki,
                                     order: CardOrder) -> None:
    seen: list[tuple[Step, bool | None]] = []
    result = personalize(transport, pki, order, lambda s, o: seen.append((s, None if o is None else o.ok)))
    assert [s.step for s in result.steps] == list(Step)
    assert all(s.ok for s in result.steps) and seen[0] == (Step.IDENTIFY, None)
    assert result.serial == blank_card.state.serial and result.kdd == blank_card.state.kdd
    assert result.atr == profile.atr() and len(result.cplc) == 42
    assert result.ds_certificate_id and set(result.summary()) == {
        "serial", "kdd", "atr", "cplc", "ds_certificate_id", "steps"}
    assert result.credentials is not None and "hidden" in repr(result.credentials)

    state = VirtualCard.load(blank_card.path).state if blank_card.path else blank_card.state
    assert state.life_cycle == profile.SECURED
    assert {df.life_cycle for df in state.applications()} == {profile.APP_PERSONALIZED}
    lds = state.application(profile.LDS_AID)
    assert lds is not None and bytes(lds.files[profile.DG2.fid].data) == result.files["DG2"]

    # The holder can sign with the PIN from the mailer; the applications take no more writes.
    transport.transmit(commands.select_aid(profile.SIGNATURE_AID, fci=False)).check()
    pin = result.credentials.pin
    transport.transmit(CommandAPDU(0x00, 0x20, 0x00, profile.PIN_REF, profile.pin_block(pin))).check()
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert transport.transmit(commands.create_ef(0x0199, 4)).sw == SW.SECURITY_STATUS_NOT_SATISFIED


def test_a_second_run_on_the_same_card_is_refused(blank_card: VirtualCard, pki: StationPki,
                                                  order: CardOrder) -> None:
    personalize(InProcessTransport(blank_card), pki, order)
    with pytest.raises(CardRefused) as caught:
        personalize(InProcessTransport(blank_card), pki, order)
    assert caught.value.step is Step.OPEN_CHANNEL and "not blank" in caught.value.reason


def test_card_from_another_issuer_is_refused_untouched(tmp_path: Path, pki: StationPki,
                                                       order: CardOrder) -> None:
    stranger = VirtualCard.blank(0x2002, bytes(16), tmp_path / "other.json")
    before = (tmp_path / "other.json").read_bytes()
    transport = InProcessTransport(stranger)
    with pytest.raises(CardRefused) as caught:
        personalize(transport, pki, order)
    assert caught.value.step is Step.OPEN_CHANNEL and caught.value.sw == SW.AUTHENTICATION_FAILED
    after = json.loads((tmp_path / "other.json").read_bytes())
    expected = json.loads(before)
    # INITIALIZE UPDATE advances the SCP03 sequence counter on any card (GPC Amd D §6.2.2.1);
    # every other byte, and the failure counter, stay as they were: no EXTERNAL AUTHENTICATE was sent.
    assert after.pop("sequence_counter") == expected.pop("sequence_counter") + 1
    assert after == expected


def test_card_not_from_our_stock_is_refused_before_any_channel(tmp_path: Path, pki: StationPki,
                                                               order: CardOrder) -> None:
    card = VirtualCard.blank(0x3003, MASTER_KEY, tmp_path / "foreign.json")
    card.state.kdd = b"XX" + card.state.kdd[2:]
    card.save()
    before = (tmp_path / "foreign.json").read_bytes()
    with pytest.raises(CardRefused) as caught:
        personalize(InProcessTransport(card), pki, order)
    assert caught.value.step is Step.IDENTIFY
    assert (tmp_path / "foreign.json").read_bytes() == before


def _step_starts(pki: StationPki, order: CardOrder, tmp_path: Path) -> dict[Step, tuple[int, int]]:
    """First and last APDU number of each step on a clean run."""
    result = personalize(InProcessTransport(VirtualCard.blank(0x4000, MASTER_KEY)), pki, order)
    spans, first = {}, 1
    for outcome in result.steps:
        spans[outcome.step] = (first, first + outcome.apdus - 1)
        first += outcome.apdus
    return spans


@pytest.mark.parametrize("after_write", [False, True])
def test_a_tear_at_each_step_names_the_step(tmp_path: Path, pki: StationPki, order: CardOrder,
                                            after_write: bool) -> None:
    spans = _step_starts(pki, order, tmp_path)
    for index, (step, (first, last)) in enumerate(spans.items()):
        card = VirtualCard.blank(0x5000 + index, MASTER_KEY, tmp_path / f"torn-{index}.json")
        card.faults = FaultPlan(tear_at=last if after_write else first, tear_after_write=after_write)
        with pytest.raises(PersonalizationError) as caught:
            personalize(InProcessTransport(card), pki, order)
        assert caught.value.step is step and caught.value.sw is None
        assert "card or reader lost" in caught.value.reason
        assert VirtualCard.load(card.path).state.life_cycle != profile.SECURED or (
            after_write and step is Step.LOCK)
    # The next card from the stock goes through.
    result = personalize(InProcessTransport(VirtualCard.blank(0x5999, MASTER_KEY)), pki, order)
    assert result.failed_step is None


def test_an_error_status_at_each_step_is_recorded(tmp_path: Path, pki: StationPki, order: CardOrder) -> None:
    spans = _step_starts(pki, order, tmp_path)
    for index, (step, (_, last)) in enumerate(spans.items()):
        card = VirtualCard.blank(0x6000 + index, MASTER_KEY)
        card.faults = FaultPlan(status_at={last: SW.MEMORY_FAILURE})
        transport = InProcessTransport(card)
        with pytest.raises(PersonalizationError) as caught:
            personalize(transport, pki, order)
        assert caught.value.step is step, (step, caught.value)
        assert caught.value.sw in (SW.MEMORY_FAILURE, SW.WRONG_DATA), caught.value
        assert f"{caught.value.sw:04X}" in str(caught.value)


@pytest.mark.pcsc
def test_a_card_pulled_through_pcscd_names_the_step(pcsc_transport: Transport, blank_card: VirtualCard,
                                                    pki: StationPki, order: CardOrder) -> None:
    spans = _step_starts(pki, order, Path())
    first, _ = spans[Step.WRITE_LDS]
    blank_card.faults = FaultPlan(tear_at=first + 3 - pcsc_transport.apdus)
    with pytest.raises(PersonalizationError) as caught:
        personalize(pcsc_transport, pki, order)
    assert caught.value.step is Step.WRITE_LDS and caught.value.sw is None


def test_verification_catches_a_wrong_sod(tmp_path: Path, pki: StationPki, order: CardOrder) -> None:
    other = training_pki.generate(MASTER_KEY, "UT")
    foreign_signer = dataclasses.replace(pki, document_signer=other.document_signer)
    with pytest.raises(PersonalizationError) as caught:
        personalize(InProcessTransport(VirtualCard.blank(0x7001, MASTER_KEY)), foreign_signer, order)
    assert caught.value.step is Step.VERIFY
    assert "DS certificate issued by a trusted CSCA" in caught.value.reason


def test_a_tear_at_every_apdu_is_attributed_to_its_step(tmp_path: Path, pki: StationPki,
                                                        order: CardOrder) -> None:
    spans = _step_starts(pki, order, tmp_path)
    step_of = {n: step for step, (first, last) in spans.items() for n in range(first, last + 1)}
    for number, step in step_of.items():
        card = VirtualCard.blank(0xA000 + number, MASTER_KEY)
        card.faults = FaultPlan(tear_at=number)
        with pytest.raises(PersonalizationError) as caught:
            personalize(InProcessTransport(card), pki, order)
        assert caught.value.step is step, number
        assert card.state.life_cycle != profile.SECURED
