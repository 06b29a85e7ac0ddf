"""APDU encodings, BER-TLV and status-word messages (ISO/IEC 7816-4 §5)."""

from __future__ import annotations

import pytest

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU, chain
from personalization.capabilities import CardCapabilities, historical_bytes
from personalization.lds import profile
from personalization.padding import PaddingError, pad, unpad
from personalization.status_words import CardError, describe


@pytest.mark.parametrize(
    ("apdu", "encoded"),
    [
        (CommandAPDU(0x00, 0xA4, 0x04, 0x00), "00A40400"),  # case 1
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=256), "00B0000000"),  # case 2S, Ne=256
        (CommandAPDU(0x00, 0xD6, 0x00, 0x00, b"\x01\x02"), "00D60000020102"),  # case 3S
        (CommandAPDU(0x00, 0xA4, 0x04, 0x00, b"\xa0", 256), "00A4040001A000"),  # case 4S
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=65536), "00B0000000000" "0"),  # case 2E
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=300), "00B0000000012C"),  # case 2E
        (CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300)), "00D6000000012C" + "00" * 300),  # 3E
        (CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300), 256), "00D6000000012C" + "00" * 300
         + "0100"),  # case 4E
    ],
)
def test_command_encodings_round_trip(apdu: CommandAPDU, encoded: str) -> None:
    raw = bytes.fromhex(encoded)
    assert apdu.to_bytes() == raw
    parsed = CommandAPDU.parse(raw)
    assert (parsed.header, parsed.data, parsed.le) == (apdu.header, apdu.data, apdu.le)


@pytest.mark.parametrize("raw", ["00A4", "00D6000005AABB", "00D60000000005AA", "00D600000000"])
def test_malformed_lengths_are_6700(raw: str) -> None:
    with pytest.raises(CardError) as err:
        CommandAPDU.parse(bytes.fromhex(raw))
    assert err.value.sw == 0x6700


def test_chaining_sets_cla_bit_on_all_but_the_last() -> None:
    parts = chain(CommandAPDU(0x00, 0xD6, 0, 0, bytes(600), 256), 255)
    assert [p.cla for p in parts] == [0x10, 0x10, 0x00]
    assert [len(p.data) for p in parts] == [255, 255, 90]
    assert [p.le for p in parts] == [None, None, 256]


def test_errors_name_the_status_word_meaning() -> None:
    with pytest.raises(CardError, match=r"READ: SW 6982 \(security status not satisfied\)"):
        ResponseAPDU(b"", 0x6982).check("READ")
    assert describe(0x63C2) == "verification failed, 2 tries left"
    assert describe(0x6C10) == "wrong Le field; 16 bytes available"
    assert describe(0x6115).startswith("21 more response bytes")


def test_pin_and_key_bytes_never_show_in_reprs() -> None:
    assert "3132" not in repr(CommandAPDU(0x00, 0x20, 0x00, 0x81, b"1234\xff\xff\xff\xff"))


def test_ber_tlv_multibyte_tags_and_long_lengths() -> None:
    value = bytes(300)
    encoded = tlv.encode(0x7F49, tlv.encode(0x86, value))
    assert encoded[:5] == bytes.fromhex("7F49820130")
    (outer,) = tlv.decode(encoded)
    assert outer.tag == 0x7F49 and outer.constructed
    assert outer.children()[0].value == value
    assert tlv.find(bytes.fromhex("0000" "5F1F0141" "FF"), 0x5F1F) == b"A"
    with pytest.raises(tlv.TlvError):
        tlv.decode(bytes.fromhex("8705AABB"))


def test_iso9797_method_2_padding() -> None:
    assert pad(b"\x01", 8) == bytes.fromhex("0180000000000000")
    assert pad(bytes(8), 8)[8:] == bytes.fromhex("8000000000000000")
    assert unpad(pad(b"abc", 16)) == b"abc"
    with pytest.raises(PaddingError):
        unpad(bytes(16))


def test_capabilities_from_atr_and_ef_atr() -> None:
    caps = CardCapabilities.from_atr(profile.atr())
    assert caps.extended_length and caps.command_chaining
    caps = caps.with_ef_atr(profile.ef_atr_content())
    assert (caps.max_command, caps.max_response) == (profile.MAX_COMMAND, profile.MAX_RESPONSE)
    assert caps.write_chunk(overhead=24) == profile.MAX_COMMAND - 9 - 24
    # A contact card ATR with TA1..TD2 and no capabilities DO: short APDUs only.
    plain = CardCapabilities.from_atr(bytes.fromhex("3BFF1300008131FE45434331" + "30" * 12 + "34"))
    assert not plain.extended_length and plain.write_chunk() == 255
    assert historical_bytes(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"))[:3] == \
        bytes.fromhex("804F0C")
