"""MRZ name field builder: primary and secondary identifiers, fillers, truncation (ICAO 9303-3 §4.6)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from enrollment.arabic import is_arabic_name
from enrollment.transliteration import transliterate_components

FILLER = "<"
TD1_NAME_LENGTH = 30

# ICAO 9303-3 §6 lists these Latin letters that do not decompose to A-Z plus a mark.
_LATIN_SPECIAL = {"ß": "SS", "Æ": "AE", "Ø": "OE", "Þ": "TH", "Œ": "OE", "Ð": "D", "Ł": "L", "Ĳ": "IJ"}


@dataclass(frozen=True)
class MrzName:
    """A name field ready for the MRZ, with the flag the clerk must see when it was cut."""

    field: str
    truncated: bool
    primary: tuple[str, ...]
    secondary: tuple[str, ...]


def latin_components(name: str) -> list[str]:
    """Latin name to MRZ components: upper case, marks removed, apostrophes dropped (9303-3 §4.6)."""
    upper = name.upper()
    for src, dst in _LATIN_SPECIAL.items():
        upper = upper.replace(src, dst)
    plain = "".join(c for c in unicodedata.normalize("NFKD", upper) if not unicodedata.combining(c))
    plain = plain.replace("'", "").replace("\u2019", "")
    # Hyphens, spaces and other punctuation separate components and become fillers.
    return [part for part in re.split(r"[^A-Z]+", plain) if part]


def _components(name: str | Sequence[str]) -> list[str]:
    parts = [name] if isinstance(name, str) else list(name)
    out: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        out.extend(transliterate_components(part) if is_arabic_name(part) else latin_components(part))
    return out


def _join(primary: list[str], secondary: list[str]) -> str:
    text = FILLER.join(primary)
    if secondary:
        text += FILLER * 2 + FILLER.join(secondary)
    return text


def _shorten_last_long(components: list[str]) -> bool:
    """Drop the last character of the right-most component longer than its initial."""
    for i in range(len(components) - 1, -1, -1):
        if len(components[i]) > 1:
            components[i] = components[i][:-1]
            return True
    return False


def build_mrz_name(
    primary: str | Sequence[str], secondary: str | Sequence[str] = (), length: int = TD1_NAME_LENGTH
) -> MrzName:
    """Name field of `length` characters per ICAO 9303-3 §4.6, truncating when it does not fit.

    Truncation deletes characters from the end of name components: secondary identifiers
    first, right-most component first, down to initials; then the primary identifier the
    same way. A truncated field ends with a letter, never a filler, so a reader can see
    that truncation may have occurred.
    """
    prim, sec = _components(primary), _components(secondary)
    if not prim:
        raise ValueError("the primary identifier is empty")
    text = _join(prim, sec)
    truncated = len(text) > length
    if truncated:
        while len(_join(prim, sec)) > length and _shorten_last_long(sec):
            pass
        while len(_join(prim, sec)) > length and _shorten_last_long(prim):
            pass
        text = _join(prim, sec)[:length]
        # Even initials did not fit: the hard cut must not leave fillers at the end.
        text = text.rstrip(FILLER)
    return MrzName(
        field=text.ljust(length, FILLER),
        truncated=truncated,
        primary=tuple(prim),
        secondary=tuple(sec),
    )


def propose_mrz_name(
    family: str, given: str | Sequence[str], length: int = TD1_NAME_LENGTH
) -> MrzName:
    """Propose the MRZ name: Arabic parts by the ICAO X-scheme (9303-3 §6), Latin ones as written."""
    return build_mrz_name(family, given, length)
