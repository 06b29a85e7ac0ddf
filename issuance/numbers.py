"""Check digits and document numbers."""

from __future__ import annotations

_WEIGHTS = (7, 3, 1)


def _value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"check digit: character {ch!r} is not allowed (0-9, A-Z, '<')")


def check_digit(data: str) -> str:
    """The 7-3-1 weighted check digit over digits, letters and fillers (ICAO 9303-3 §4.9)."""
    return str(sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)
