"""ASN.1 building blocks the LDS files share: application-tagged strings and the tag list."""

from __future__ import annotations

from typing import Any

from asn1crypto import core


def app(number: int) -> dict[str, Any]:
    """Field options for an implicit APPLICATION tag, e.g. app(0x1F) for 5F1F."""
    return {"implicit": ("application", number)}


def tag_list(tags: list[int]) -> bytes:
    """Tag list (5C) value: the one-byte LDS tags of the files present (ICAO 9303-10 §4.6.1)."""
    return bytes(tags)


def load(spec: type[core.Asn1Value], data: bytes, what: str) -> Any:
    """Parse strictly: trailing bytes or a bad encoding raise ValueError naming the file."""
    try:
        value = spec.load(data, strict=True)
        value.native  # noqa: B018 - forces a full parse so errors surface here
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{what} does not decode: {exc}") from exc
    return value

