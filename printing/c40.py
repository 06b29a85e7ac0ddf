"""C40 encoding of upper-case text as the visible digital seal uses it (ICAO 9303-13 §2.3)."""

from __future__ import annotations

_SHIFT1 = 0
_SINGLE = 0xFE


class C40Error(ValueError):
    """Text outside the C40 basic set, or bytes that are not a C40 encoding."""


def _value(char: str) -> int:
    if char in " <":  # the MRZ filler travels as a space (ICAO 9303-13 §2.3)
        return 3
    if "0" <= char <= "9":
        return ord(char) - ord("0") + 4
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 14
    raise C40Error(f"C40: {char!r} is not in the basic set (space, 0-9, A-Z)")


def _char(value: int) -> str:
    if value == 3:
        return " "
    if 4 <= value <= 13:
        return chr(value - 4 + ord("0"))
    if 14 <= value <= 39:
        return chr(value - 14 + ord("A"))
    raise C40Error(f"C40: value {value} is not a basic-set character")


def encode(text: str) -> bytes:
    """Triplets in 16 bits (1600*c1 + 40*c2 + c3 + 1); a lone last character as 0xFE, ASCII+1."""
    values = [_value(ch) for ch in text]
    out = bytearray()
    for i in range(0, len(values) - len(values) % 3, 3):
        c1, c2, c3 = values[i:i + 3]
        out += (1600 * c1 + 40 * c2 + c3 + 1).to_bytes(2, "big")
    rest = values[len(values) - len(values) % 3:]
    if len(rest) == 2:
        out += (1600 * rest[0] + 40 * rest[1] + _SHIFT1 + 1).to_bytes(2, "big")
    elif len(rest) == 1:
        out += bytes([_SINGLE, ord(text[-1].replace("<", " ")) + 1])
    return bytes(out)


def decode(data: bytes) -> str:
    """The inverse of encode; a trailing shift-1 pad is dropped."""
    chars: list[str] = []
    for i in range(0, len(data) - 1, 2):
        if data[i] == _SINGLE:
            chars.append(chr(data[i + 1] - 1))
            continue
        number = int.from_bytes(data[i:i + 2], "big") - 1
        c1, rest = divmod(number, 1600)
        c2, c3 = divmod(rest, 40)
        chars += [_char(c1), _char(c2)]
        if c3 != _SHIFT1:
            chars.append(_char(c3))
    if len(data) % 2:
        raise C40Error("C40: an odd number of bytes")
    return "".join(chars)
