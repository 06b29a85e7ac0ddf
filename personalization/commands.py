"""Builders for the commands a station sends (ISO/IEC 7816-4 §11, GPC 2.3 §11, ISO/IEC 7816-8)."""

from __future__ import annotations

from personalization import tlv
from personalization.apdu import CommandAPDU, ResponseAPDU
from personalization.channel import ApduSender
from personalization.status_words import SW, CardError


def select_aid(aid: bytes, fci: bool = True) -> CommandAPDU:
    """SELECT by DF name, first occurrence (ISO/IEC 7816-4 §11.2.2)."""
    return CommandAPDU(0x00, 0xA4, 0x04, 0x00 if fci else 0x0C, aid, 256 if fci else None)


def select_fid(fid: int) -> CommandAPDU:
    """SELECT an EF under the current DF, no answer data (ISO/IEC 7816-4 §11.2.2)."""
    return CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def create_ef(fid: int, size: int, sfi: int | None = None, read_ac: int = 0x00,
              write_ac: int = 0x01) -> CommandAPDU:
    """CREATE FILE for a transparent EF (ISO/IEC 7816-9 §6.1; access rules: card profile v1)."""
    items = [(0x80, size.to_bytes(2, "big")), (0x82, b"\x01"), (0x83, fid.to_bytes(2, "big"))]
    if sfi is not None:
        items.append((0x88, bytes((sfi << 3,))))
    items.append((0x86, bytes((read_ac, write_ac))))
    return CommandAPDU(0x00, 0xE0, 0x00, 0x00, tlv.encode(0x62, tlv.encode_all(*items)))


def update_binary(offset: int, data: bytes) -> CommandAPDU:
    """UPDATE BINARY at a 15-bit offset in the current EF (ISO/IEC 7816-4 §11.2.5)."""
    return CommandAPDU(0x00, 0xD6, offset >> 8, offset & 0xFF, data)


def read_binary(offset: int, length: int) -> CommandAPDU:
    """READ BINARY at a 15-bit offset in the current EF (ISO/IEC 7816-4 §11.2.3)."""
    return CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length)


def write_file(channel: ApduSender, fid: int, data: bytes, chunk: int) -> None:
    """Select an EF and write it in pieces of at most `chunk` bytes."""
    channel.transmit(select_fid(fid)).check(f"SELECT {fid:04X}")
    for offset in range(0, len(data), chunk):
        channel.transmit(update_binary(offset, data[offset : offset + chunk])).check(
            f"UPDATE BINARY {fid:04X}@{offset}"
        )


def read_file(channel: ApduSender, fid: int, length: int, chunk: int) -> bytes:
    """Select an EF and read `length` bytes in pieces of at most `chunk` bytes."""
    channel.transmit(select_fid(fid)).check(f"SELECT {fid:04X}")
    out = b""
    while len(out) < length:
        answer: ResponseAPDU = channel.transmit(read_binary(len(out), min(chunk, length - len(out))))
        if answer.sw not in (SW.OK, SW.END_OF_FILE):
            raise CardError(answer.sw, f"READ BINARY {fid:04X}@{len(out)}")
        if not answer.data:
            break
        out += answer.data
    return out
