"""Failure paths of the virtual card, each with the status word ISO 7816-4 / GPC / ICAO name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from personalization import commands, tlv
from personalization.apdu import CommandAPDU, ResponseAPDU, chain
from personalization.lds import profile
from personalization.lds.profile import pin_block
from personalization.protocol.kdf import StaticKeys, diversify_keys
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel, put_key_data
from personalization.status_words import CardError, CardRemovedError
from personalization.transport.base import Transport
from personalization.transport.in_process import InProcessTransport
from personalization.transport.pcsc import PcscTransport
from personalization.virtual_card import FaultPlan, VirtualCard
from personalization.vpcd import VirtualReaderSlot

Keys = Callable[[bytes], StaticKeys]


def _open(transport: Transport, keys: Keys, aid: bytes = profile.LDS_AID) -> Scp03Channel:
    transport.transmit(commands.select_aid(aid, fci=False)).check()
    channel = Scp03Channel(transport, keys, LEVEL_FULL)
    channel.open()
    return channel


@pytest.fixture
def local(blank_card: VirtualCard) -> InProcessTransport:
    t = InProcessTransport(blank_card)
    t.connect()
    return t


# --- SCP03: wrong keys, retry limit, bad MAC, key rotation, life cycle ---------------------

def test_wrong_keys_fail_and_the_card_manager_blocks(
    transport: Transport, blank_card: VirtualCard
) -> None:
    blank_card.state.max_auth_failures = 3
    wrong: Keys = lambda kdd: diversify_keys(b"\x00" * 16, kdd)  # noqa: E731
    transport.transmit(commands.select_aid(profile.ISD_AID)).check()
    with pytest.raises(CardError) as err:
        Scp03Channel(transport, wrong).open()
    assert err.value.sw == 0x6300 and "wrong keys" in str(err.value)

    # A host that ignores the card cryptogram and answers anyway: 6300 each time, then 6983.
    for _ in range(3):
        transport.transmit(CommandAPDU(0x80, 0x50, 0, 0, bytes(8), 256)).check()
        answer = transport.transmit(CommandAPDU(0x84, 0x82, 0x33, 0, bytes(16)))
        assert answer.sw == 0x6300
    blocked = transport.transmit(CommandAPDU(0x80, 0x50, 0, 0, bytes(8), 256))
    assert blocked.sw == 0x6983
    with pytest.raises(CardError, match="authentication method blocked"):
        blocked.check("INITIALIZE UPDATE")


def test_bad_mac_ends_the_secure_channel(transport: Transport, card_keys: Keys) -> None:
    channel = _open(transport, card_keys)
    assert channel.session is not None
    wrapped = channel.session.wrap(commands.create_ef(0x0101, 16))
    tampered = bytearray(wrapped.to_bytes())
    tampered[-1] ^= 0x80
    assert ResponseAPDU.parse(transport.transmit_raw(bytes(tampered))).sw == 0x6982
    assert channel.transmit(commands.create_ef(0x0101, 16)).sw == 0x6982


def test_put_key_rotates_the_key_set(local: InProcessTransport, card_keys: Keys) -> None:
    channel = _open(local, card_keys, profile.ISD_AID)
    assert channel.session is not None
    new = StaticKeys(bytes(range(16)), bytes(range(16, 32)), bytes(range(32, 48)), 0x31)
    answer = channel.transmit(CommandAPDU(0x80, 0xD8, 0x30, 0x81,
                                          put_key_data(channel.session, new), 256)).check()
    assert answer[0] == 0x31 and len(answer) == 10
    local.transmit(commands.select_aid(profile.ISD_AID)).check()
    with pytest.raises(CardError):
        Scp03Channel(local, card_keys).open()
    Scp03Channel(local, new).open(0x31)


def test_card_life_cycle(local: InProcessTransport, card_keys: Keys) -> None:
    channel = _open(local, card_keys, profile.ISD_AID)
    for state in (profile.INITIALIZED, profile.SECURED):
        channel.transmit(CommandAPDU(0x80, 0xF0, 0x80, state)).check()
    assert channel.transmit(CommandAPDU(0x80, 0xF0, 0x80, profile.OP_READY)).sw == 0x6985
    status = channel.transmit(CommandAPDU(0x80, 0xF2, 0x80, 0x02, b"\x4f\x00", 256)).check()
    entry = tlv.find(status, 0xE3) or b""
    assert tlv.find(entry, 0x9F70) == b"\x0f"
    channel.transmit(CommandAPDU(0x80, 0xF0, 0x80, profile.CARD_LOCKED)).check()
    assert local.transmit(commands.select_aid(profile.LDS_AID)).sw == 0x6A82
    channel = _open(local, card_keys, profile.ISD_AID)
    channel.transmit(CommandAPDU(0x80, 0xF0, 0x80, profile.TERMINATED)).check()
    assert local.transmit(commands.select_aid(profile.ISD_AID)).sw == 0x6A81


def test_locked_application_refuses_selection(local: InProcessTransport, card_keys: Keys) -> None:
    channel = _open(local, card_keys, profile.ISD_AID)
    channel.transmit(CommandAPDU(0x80, 0xF0, 0x40, profile.APP_PERSONALIZED,
                                 profile.LDS_AID)).check()
    channel = _open(local, card_keys)
    assert channel.transmit(commands.create_ef(0x0101, 16)).sw == 0x6985
    channel = _open(local, card_keys, profile.ISD_AID)
    channel.transmit(CommandAPDU(0x80, 0xF0, 0x40, profile.APP_LOCKED, profile.LDS_AID)).check()
    assert local.transmit(commands.select_aid(profile.LDS_AID)).sw == 0x6999


# --- PIN and PUK ------------------------------------------------------------------------

def _personalized_signature_app(transport: Transport, keys: Keys) -> None:
    channel = _open(transport, keys, profile.SIGNATURE_AID)
    channel.transmit(CommandAPDU(0x00, 0x24, 0x01, 0x81, pin_block("1234"))).check()
    channel.transmit(CommandAPDU(0x00, 0x24, 0x01, 0x82, pin_block("87654321"))).check()
    transport.transmit(commands.select_aid(profile.SIGNATURE_AID, fci=False)).check()


def _verify(transport: Transport, pin: str) -> int:
    return transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block(pin))).sw


def _reset(transport: Transport, puk: str, new_pin: str) -> int:
    data = pin_block(puk) + pin_block(new_pin)
    return transport.transmit(CommandAPDU(0x00, 0x2C, 0x00, 0x81, data)).sw


def test_wrong_pin_until_blocked_then_puk_unblocks(transport: Transport, card_keys: Keys
                                                   ) -> None:
    _personalized_signature_app(transport, card_keys)
    assert [_verify(transport, "0000") for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]
    assert _verify(transport, "1234") == 0x6983  # blocked even for the right PIN
    assert transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81)).sw == 0x6983
    assert _reset(transport, "11111111", "4321") == 0x63C9
    assert _reset(transport, "87654321", "4321") == 0x9000
    assert transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81)).sw == 0x63C3
    assert _verify(transport, "1234") == 0x63C2
    assert _verify(transport, "4321") == 0x9000
    change = pin_block("4321") + pin_block("9999")
    assert transport.transmit(CommandAPDU(0x00, 0x24, 0x00, 0x81, change)).sw == 0x9000
    assert _verify(transport, "9999") == 0x9000


def test_puk_blocks_after_ten_failures(local: InProcessTransport, card_keys: Keys) -> None:
    _personalized_signature_app(local, card_keys)
    answers = [_reset(local, "00000000", "1111") for _ in range(10)]
    assert answers[:2] == [0x63C9, 0x63C8] and answers[-1] == 0x63C0
    assert _reset(local, "87654321", "1111") == 0x6983


def test_initial_pin_needs_the_secure_channel(local: InProcessTransport) -> None:
    local.transmit(commands.select_aid(profile.SIGNATURE_AID)).check()
    answer = local.transmit(CommandAPDU(0x00, 0x24, 0x01, 0x81, pin_block("1234")))
    assert answer.sw == 0x6982
    assert local.transmit(CommandAPDU(0x00, 0x47, 0x80, 0x00, le=256)).sw == 0x6982


# --- tear and forced status words ---------------------------------------------------------

def test_tear_mid_write_leaves_the_old_content(
    local: InProcessTransport, blank_card: VirtualCard, card_keys: Keys
) -> None:
    channel = _open(local, card_keys)
    channel.transmit(commands.create_ef(0x0101, 8)).check()
    commands.write_file(channel, 0x0101, b"OLDOLDOL", 8)
    blank_card.faults = FaultPlan(tear_at=2)  # 1: SELECT, 2: UPDATE BINARY
    with pytest.raises(CardRemovedError):
        commands.write_file(channel, 0x0101, b"NEWNEWNE", 8)
    local.connect()
    # The interrupted session is gone for good; the station must start over.
    assert channel.transmit(commands.select_fid(0x0101)).sw == 0x6982
    channel = _open(local, card_keys)
    assert commands.read_file(channel, 0x0101, 8, 8) == b"OLDOLDOL"
    reloaded = VirtualCard.load(blank_card.path) if blank_card.path else None
    assert reloaded is not None
    lds = reloaded.state.application(profile.LDS_AID)
    assert lds is not None and bytes(lds.files[0x0101].data) == b"OLDOLDOL"


def test_tear_after_the_write_keeps_it(local: InProcessTransport, blank_card: VirtualCard,
                                       card_keys: Keys) -> None:
    channel = _open(local, card_keys)
    channel.transmit(commands.create_ef(0x0101, 8)).check()
    blank_card.faults = FaultPlan(tear_at=2, tear_after_write=True)
    with pytest.raises(CardRemovedError):
        commands.write_file(channel, 0x0101, b"WRITTEN!", 8)
    local.connect()
    channel = _open(local, card_keys)
    assert commands.read_file(channel, 0x0101, 8, 8) == b"WRITTEN!"


@pytest.mark.pcsc
def test_tear_over_pcscd(slot: VirtualReaderSlot, pcsc_transport: PcscTransport,
                         blank_card: VirtualCard, card_keys: Keys) -> None:
    channel = _open(pcsc_transport, card_keys)
    channel.transmit(commands.create_ef(0x0101, 8)).check()
    blank_card.faults = FaultPlan(tear_at=2)
    with pytest.raises(CardRemovedError):
        commands.write_file(channel, 0x0101, b"NEWNEWNE", 8)
    pcsc_transport.disconnect()
    pcsc_transport.wait_for_removal(timeout=5)
    slot.insert(blank_card)
    pcsc_transport.wait_for_card(timeout=5)
    pcsc_transport.connect()
    channel = _open(pcsc_transport, card_keys)
    assert commands.read_file(channel, 0x0101, 8, 8) == bytes(8)


def test_forced_status_words(local: InProcessTransport, blank_card: VirtualCard) -> None:
    blank_card.faults = FaultPlan(status_at={2: 0x6581}, status_for_ins={0xCA: 0x6F00})
    assert local.transmit(commands.select_aid(profile.ISD_AID)).sw == 0x9000
    assert local.transmit(commands.select_aid(profile.ISD_AID)).sw == 0x6581
    assert local.transmit(CommandAPDU(0x80, 0xCA, 0x9F, 0x7F, le=256)).sw == 0x6F00


# --- file system errors -------------------------------------------------------------------

def test_file_system_status_words(local: InProcessTransport, blank_card: VirtualCard,
                                  card_keys: Keys) -> None:
    local.transmit(commands.select_aid(profile.LDS_AID)).check()
    assert local.transmit(commands.create_ef(0x0101, 16)).sw == 0x6982
    assert local.transmit(commands.read_binary(0, 4)).sw == 0x6986
    channel = _open(local, card_keys)
    channel.transmit(commands.create_ef(0x0101, 16, sfi=1, read_ac=0x01)).check()
    assert channel.transmit(commands.create_ef(0x0101, 16)).sw == 0x6A89
    channel.transmit(commands.create_ef(0x0102, 65000)).check()
    channel.transmit(commands.create_ef(0x0103, 65000)).check()
    assert channel.transmit(commands.create_ef(0x0104, 65000)).sw == 0x6A84
    assert channel.transmit(commands.select_fid(0x0BAD)).sw == 0x6A82
    channel.transmit(commands.select_fid(0x0101)).check()
    assert channel.transmit(commands.update_binary(17, b"x")).sw == 0x6B00
    assert channel.transmit(commands.update_binary(10, b"x" * 7)).sw == 0x6700
    channel.transmit(commands.update_binary(0, bytes(range(16)))).check()
    assert channel.transmit(commands.read_binary(20, 1)).sw == 0x6B00
    by_sfi = channel.transmit(CommandAPDU(0x00, 0xB0, 0x81, 0x02, le=4)).check()
    assert by_sfi == bytes(range(2, 6))
    odd = channel.transmit(CommandAPDU(0x00, 0xB1, 0x01, 0x01, b"\x54\x01\x04", le=256)).check()
    assert odd == b"\x53\x0c" + bytes(range(4, 16))
    # Without the channel the EF's read rule is not met.
    local.transmit(commands.select_aid(profile.LDS_AID)).check()
    local.transmit(commands.select_fid(0x0101)).check()
    assert local.transmit(commands.read_binary(0, 4)).sw == 0x6982
    assert local.transmit(CommandAPDU(0x00, 0x99, 0, 0)).sw == 0x6D00
    assert local.transmit(CommandAPDU(0xFF, 0xB0, 0, 0, le=1)).sw == 0x6E00
    assert local.transmit_raw(bytes.fromhex("00B0000005AA")).endswith(b"\x67\x00")
    # EF.ATR/INFO in the MF is free to read; asking past its end gives 6282 and what there is.
    local.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"))
    local.transmit(commands.select_fid(profile.FID_EF_ATR)).check()
    partial = local.transmit(commands.read_binary(4, 40))
    assert (partial.data, partial.sw) == (profile.ef_atr_content()[4:], 0x6282)


def test_get_response_wrong_le_and_chaining(local: InProcessTransport, card_keys: Keys) -> None:
    raw: list[bytes] = []
    original = local.transmit_raw

    def tap(apdu: bytes) -> bytes:
        raw.append(apdu)
        return original(apdu)

    local.transmit_raw = tap  # type: ignore[method-assign]
    local.transmit(commands.select_aid(profile.ISD_AID)).check()
    cplc = local.transmit(CommandAPDU(0x80, 0xCA, 0x9F, 0x7F, le=0x10)).check()
    assert len(cplc) == 45 and raw[-1][-1] == 45  # 6C2D, then resent with Le=2D

    channel = _open(local, card_keys)
    channel.transmit(commands.create_ef(0x0101, 600)).check()
    channel.transmit(commands.select_fid(0x0101)).check()
    body = bytes(i % 251 for i in range(600))
    for part in chain(commands.update_binary(0, body), 200):
        channel.transmit(part).check()
    raw.clear()
    # 256 bytes, R-ENC padding and R-MAC exceed a short Le: the card answers 61xx.
    assert channel.transmit(commands.read_binary(0, 256)).check() == body[:256]
    assert raw[-1][:2] == b"\x00\xC0"
    assert commands.read_file(channel, 0x0101, 600, 600) == body
