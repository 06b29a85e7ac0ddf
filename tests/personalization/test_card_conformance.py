"""Card OS conformance defects found by an independent inspection program (issue 13, point 1).

Each test runs through the real pcscd (and in-process where the `transport` fixture gives both).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from personalization import commands, tlv
from personalization.apdu import CommandAPDU, ResponseAPDU, chain
from personalization.lds import profile
from personalization.protocol import bac
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel
from personalization.protocol.secure_messaging import SecureMessagingChannel
from personalization.transport.base import Transport
from personalization.transport.pcsc import PcscTransport, list_readers
from personalization.virtual_card import FaultPlan, VirtualCard
from tests.personalization.chip_setup import LARGE, Keys, bac_seed, personalize
from tests.personalization.conftest import worker_reader


def _inspect(transport: Transport, keys: Keys) -> SecureMessagingChannel:
    personalize(transport, keys)
    transport.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    return bac.authenticate(transport, bac_seed())


def _other_reader() -> str:
    _, mine = worker_reader()
    others = [r for r in list_readers() if r != mine and "Virtual PCD" in r]
    assert others, "pcscd should offer two vpcd readers"
    return others[0]


# --- the 1-byte frame --------------------------------------------------------------------

@pytest.mark.pcsc
def test_one_byte_apdus_never_stall_pcscd(pcsc_transport: PcscTransport, card_keys: Keys
                                          ) -> None:
    inspection = _inspect(pcsc_transport, card_keys)
    # Any byte vpcd never uses as a control code is an APDU too short for its header.
    started = time.monotonic()
    assert ResponseAPDU.parse(pcsc_transport.transmit_raw(b"\x05")).sw == 0x6700
    assert time.monotonic() - started < 0.5

    # 00 looks like "power off"; the driver then stays silent, so after the grace period the
    # link knows it was an APDU. Meanwhile pcscd keeps serving the other reader.
    answers: list[bytes] = []
    sender = threading.Thread(target=lambda: answers.append(pcsc_transport.transmit_raw(b"\x00")))
    started = time.monotonic()
    sender.start()
    other = PcscTransport(_other_reader())
    other.card_present()  # returns at once instead of hanging behind our reader
    assert time.monotonic() - started < 1.5
    sender.join(timeout=10)
    assert answers and ResponseAPDU.parse(answers[0]).sw == 0x6700
    for code in (b"\x01", b"\x02"):
        assert ResponseAPDU.parse(pcsc_transport.transmit_raw(code)).sw == 0x6700

    # Nothing was powered off or reset: the BAC session is still there.
    assert commands.read_file(inspection, 0x0102, 64, 64) == LARGE[:64]
    # What cannot be told apart: a 1-byte APDU 04 reads as GET ATR and gets the ATR back.
    assert pcsc_transport.transmit_raw(b"\x04") == pcsc_transport.atr


# --- command chaining ----------------------------------------------------------------------

def test_chaining_is_refused_where_iso_7816_4_refuses_it(transport: Transport, card_keys: Keys
                                                         ) -> None:
    transport.transmit(commands.select_aid(profile.LDS_AID)).check()
    chained_select = CommandAPDU(0x10, 0xA4, 0x04, 0x0C, profile.LDS_AID)
    assert transport.transmit(chained_select).sw == 0x6884
    assert transport.transmit(CommandAPDU(0x10, 0x84, 0, 0, le=8)).sw == 0x6884
    assert transport.transmit(CommandAPDU(0x10, 0x77, 0, 0, b"x")).sw == 0x6D00
    assert transport.transmit(CommandAPDU(0x30, 0xD6, 0, 0, b"x")).sw == 0x6E00

    channel = Scp03Channel(transport, card_keys, LEVEL_FULL)
    channel.open()
    channel.transmit(commands.create_ef(0x0101, 64)).check()
    channel.transmit(commands.select_fid(0x0101)).check()
    first, _ = chain(commands.update_binary(0, b"A" * 40), 20)[:2]
    assert channel.transmit(first).check() == b""
    # A different command in the middle of a chain: 6883, and the buffered part is dropped.
    assert channel.transmit(commands.read_binary(0, 4)).sw == 0x6883
    channel.transmit(commands.update_binary(0, b"BBBB")).check()
    assert commands.read_file(channel, 0x0101, 8, 8) == b"BBBB" + bytes(4)

    # The buffer is bounded by the card's declared command size: 6700, then the card goes on.
    big = commands.update_binary(0, bytes(profile.MAX_COMMAND + 200))
    parts = chain(big, 250)
    answers = [channel.transmit(part).sw for part in parts]
    assert 0x6700 in answers
    assert channel.transmit(commands.update_binary(8, b"CC")).sw == 0x9000


# --- secure messaging ----------------------------------------------------------------------

def _tap(transport: Transport) -> list[bytes]:
    seen: list[bytes] = []
    original = transport.transmit_raw

    def tap(apdu: bytes) -> bytes:
        answer = original(apdu)
        seen.append(answer)
        return answer

    transport.transmit_raw = tap  # type: ignore[method-assign]
    return seen


def test_short_reads_under_sm_fit_one_response(transport: Transport, card_keys: Keys) -> None:
    inspection = _inspect(transport, card_keys)
    answers = _tap(transport)
    inspection.transmit(commands.select_fid(0x0102)).check()
    data = inspection.transmit(commands.read_binary(0, 256)).check()  # Le = 00
    raw = answers[-1]
    assert len(raw) - 2 <= 256 and raw[-2:] == b"\x90\x00", "no 61xx split"
    assert len(data) == inspection.session.plain_capacity(256) == 231
    assert data == LARGE[:231]
    odd = inspection.transmit(CommandAPDU(0x00, 0xB1, 0x01, 0x02, b"\x54\x02\x01\x00", le=256))
    assert odd.sw == 0x9000 and len(answers[-1]) - 2 <= 256
    inner = tlv.find(odd.data, 0x53)
    assert inner is not None and inner == LARGE[256 : 256 + len(inner)] and len(inner) >= 200


def test_select_under_sm_stays_under_sm(transport: Transport, card_keys: Keys) -> None:
    inspection = _inspect(transport, card_keys)
    answers = _tap(transport)
    inspection.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert tlv.find(answers[-1][:-2], 0x8E) is not None, "the answer carries a MAC"
    inspection.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    assert tlv.find(answers[-1][:-2], 0x8E) is not None
    inspection.transmit(commands.select_aid(profile.LDS_AID, fci=False)).check()
    assert commands.read_file(inspection, 0x0102, 16, 16) == LARGE[:16]


# --- class bytes, parameters, offsets ------------------------------------------------------

def test_class_parameter_and_offset_errors(transport: Transport, card_keys: Keys) -> None:
    inspection = _inspect(transport, card_keys)
    for cla, sw in ((0x40, 0x6881), (0x60, 0x6881), (0x01, 0x6881), (0x20, 0x6E00),
                    (0xA0, 0x6E00)):
        assert transport.transmit(CommandAPDU(cla, 0xB0, 0, 0, le=1)).sw == sw, hex(cla)
    assert transport.transmit(CommandAPDU(0x00, 0x6A, 0, 0)).sw == 0x6D00
    bad_p2 = CommandAPDU(0x00, 0xA4, 0x04, 0xFF, profile.LDS_AID)
    assert transport.transmit(bad_p2).sw == 0x6A86
    inspection = bac.authenticate(transport, bac_seed())
    inspection.transmit(commands.select_fid(0x0101)).check()
    size = len(inspection.transmit(commands.read_binary(0, 256)).check())
    assert inspection.transmit(commands.read_binary(size, 256)).sw == 0x6B00


def test_get_status_lists_privileges_and_security_domain(transport: Transport, card_keys: Keys
                                                         ) -> None:
    transport.transmit(commands.select_aid(profile.ISD_AID)).check()
    channel = Scp03Channel(transport, card_keys, LEVEL_FULL)
    channel.open()
    for p1 in (0x80, 0x40):
        status = channel.transmit(CommandAPDU(0x80, 0xF2, p1, 0x02, b"\x4f\x00", 256)).check()
        entries = [item for item in tlv.iterate(status) if item.tag == 0xE3]
        assert entries
        for entry in entries:
            privileges = tlv.find(entry.value, 0xC5)
            assert privileges is not None and len(privileges) == 3
            assert tlv.find(entry.value, 0xCC) == profile.ISD_AID


# --- internal errors ---------------------------------------------------------------------

def test_internal_error_answers_6f00_and_is_logged(
    transport: Transport, blank_card: VirtualCard, caplog: pytest.LogCaptureFixture
) -> None:
    blank_card.faults = FaultPlan(crash_for_ins={0xCA})
    with caplog.at_level(logging.ERROR, logger="personalization.virtual_card.card"):
        assert transport.transmit(CommandAPDU(0x80, 0xCA, 0x9F, 0x7F, le=256)).sw == 0x6F00
    assert "injected card OS fault" in caplog.text
    assert transport.transmit(commands.select_aid(profile.LDS_AID)).sw == 0x9000
