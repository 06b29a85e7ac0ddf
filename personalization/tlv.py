"""BER-TLV encoding and decoding (ISO/IEC 7816-4 §5.2, ISO/IEC 8825-1 §8.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


class TlvError(ValueError):
    """Malformed BER-TLV data."""


@dataclass(frozen=True)
class Tlv:
    """One data object: tag as an int (e.g. 0x7F49), value as bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes(tag_length(self.tag), "big")[0]
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        return decode(self.value)

    def to_bytes(self) -> bytes:
        return encode(self.tag, self.value)


def tag_length(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8)


def encode_length(n: int) -> bytes:
    """Definite length in short or long form (ISO/IEC 8825-1 §8.1.3)."""
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def encode(tag: int, value: bytes) -> bytes:
    return tag.to_bytes(tag_length(tag), "big") + encode_length(len(value)) + value


def encode_all(*items: tuple[int, bytes]) -> bytes:
    return b"".join(encode(t, v) for t, v in items)


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    """Return (tag, next position); multi-byte tags follow ISO/IEC 8825-1 §8.1.2.4."""
    if pos >= len(data):
        raise TlvError("truncated tag")
    start = pos
    pos += 1
    if data[start] & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError("truncated multi-byte tag")
            pos += 1
            if not data[pos - 1] & 0x80:
                break
    return int.from_bytes(data[start:pos], "big"), pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4 or pos + count > len(data):
        raise TlvError("bad long-form length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def iterate(data: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(data):
        # 00 and FF between objects are padding (ISO/IEC 7816-4 §5.2.2).
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag, pos = read_tag(data, pos)
        length, pos = read_length(data, pos)
        if pos + length > len(data):
            raise TlvError(f"value of tag {tag:X} runs past the end")
        yield Tlv(tag, bytes(data[pos : pos + length]))
        pos += length


def decode(data: bytes) -> list[Tlv]:
    return list(iterate(data))


def find(data: bytes, tag: int) -> bytes | None:
    """Value of the first object with this tag at the top level, or None."""
    for item in iterate(data):
        if item.tag == tag:
            return item.value
    return None


def decode_one(data: bytes) -> tuple[Tlv, int]:
    """Decode the first object and return it with the number of bytes it used."""
    tag, pos = read_tag(data, 0)
    length, pos = read_length(data, pos)
    if pos + length > len(data):
        raise TlvError(f"value of tag {tag:X} runs past the end")
    return Tlv(tag, bytes(data[pos : pos + length])), pos + length


def decode_header(data: bytes) -> tuple[int, int]:
    """Header size and value length of the first object, from its first bytes only."""
    _, pos = read_tag(data, 0)
    length, pos = read_length(data, pos)
    return pos, length
