"""TD1 machine readable zone: the three 30-character lines, check digits and the print geometry."""

from __future__ import annotations

import re
from dataclasses import dataclass

from personalization.lds.mrz import check_digit, compose

TD1_LINES = 3
TD1_LENGTH = 30
# ICAO 9303-3 §4.2 / 9303-5: OCR-B size 1 at 10 characters per inch, 6 lines per inch.
CHAR_PITCH_MM = 2.54
LINE_PITCH_MM = 4.23
# The effective reading zone of a TD1 back: the bottom 17.9 mm of the card (ICAO 9303-5 §4.1).
ZONE_HEIGHT_MM = 17.9
CHAR_HEIGHT_MM = 2.4
_CHARSET = re.compile(r"[A-Z0-9<]{30}")


class MrzError(ValueError):
    """The MRZ text is not a valid TD1 zone; the message names the field and the rule."""


@dataclass(frozen=True)
class Td1Check:
    """One check digit of a TD1 MRZ: where it is, what it should be and what is printed."""

    field: str
    expected: str
    found: str

    @property
    def valid(self) -> bool:
        return self.expected == self.found


def validate_lines(lines: tuple[str, ...] | list[str]) -> tuple[str, str, str]:
    """Three lines of 30 OCR-B characters (A-Z, 0-9, <), else MrzError naming the line."""
    if len(lines) != TD1_LINES:
        raise MrzError(f"mrz: a TD1 zone has {TD1_LINES} lines, got {len(lines)}")
    for number, line in enumerate(lines, start=1):
        if not _CHARSET.fullmatch(line):
            raise MrzError(f"mrz line {number}: needs exactly {TD1_LENGTH} characters from A-Z, 0-9 and <")
    return lines[0], lines[1], lines[2]


def td1_checks(lines: tuple[str, ...] | list[str]) -> list[Td1Check]:
    """Every check digit of a TD1 MRZ, recomputed (ICAO 9303-5 §4.2.2)."""
    one, two, _ = validate_lines(lines)
    composite = one[5:30] + two[0:7] + two[8:15] + two[18:29]
    return [
        Td1Check("document_number", check_digit(one[5:14]), one[14]),
        Td1Check("birth_date", check_digit(two[0:6]), two[6]),
        Td1Check("expiry_date", check_digit(two[8:14]), two[14]),
        Td1Check("composite", check_digit(composite), two[29]),
    ]


def compose_td1(
    *,
    document_code: str,
    issuing_state: str,
    document_number: str,
    birth_date: str,
    sex: str,
    expiry_date: str,
    nationality: str,
    name: str,
    optional1: str = "",
    optional2: str = "",
) -> tuple[str, str, str]:
    """The three TD1 lines from their fields, check digits computed (ICAO 9303-5 §4.2.2)."""
    zone = compose(document_code=document_code, issuing_state=issuing_state,
                   document_number=document_number, birth_date=birth_date, sex=sex,
                   expiry_date=expiry_date, nationality=nationality, name=name, optional1=optional1,
                   optional2=optional2)
    return validate_lines(zone.lines)
