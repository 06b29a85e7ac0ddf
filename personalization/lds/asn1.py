"""ASN.1 building blocks the LDS files share: application-tagged strings and the tag list."""

from __future__ import annotations

from datetime import date
from typing import Any

from asn1crypto import core


def app(number: int) -> dict[str, Any]:
    """Field options for an implicit APPLICATION tag, e.g. app(0x1F) for 5F1F."""
    return {"implicit": ("application", number)}


def tag_list(tags: tuple[int, ...] | list[int]) -> bytes:
    """Tag list (5C) value: the tags concatenated, each in its own length (ICAO 9303-10 §4.6.1, §4.7.11)."""
    return b"".join(t.to_bytes(max(1, (t.bit_length() + 7) // 8), "big") for t in tags)


def compact_date(day: date) -> str:
    """yyyymmdd, the full dates of DG11 and DG12 (ICAO 9303-10 §4.7.11)."""
    return day.strftime("%Y%m%d")


def parse_compact_date(text: str, what: str) -> date:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise ValueError(f"{what}: not a yyyymmdd date") from exc


def load(spec: type[core.Asn1Value], data: bytes, what: str) -> Any:
    """Parse strictly: trailing bytes or a bad encoding raise ValueError naming the file."""
    try:
        value = spec.load(data, strict=True)
        value.native  # noqa: B018 - forces a full parse so errors surface here
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{what} does not decode: {exc}") from exc
    return value

