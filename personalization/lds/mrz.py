"""The TD1 machine readable zone: three lines of 30 characters with check digits (ICAO 9303-5 §4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from personalization.lds.holder import DocumentData, HolderData

_WEIGHTS = (7, 3, 1)
LINE = 30


def check_digit(field: str) -> str:
    """MRZ check digit, weights 7-3-1 modulo 10 (ICAO 9303-3 §4.9)."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch.upper() <= "Z":
            value = ord(ch.upper()) - 55
        else:
            value = 0
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


@dataclass(frozen=True)
class Td1:
    """The three MRZ lines of an ID-1 card."""

    line1: str
    line2: str
    line3: str

    @property
    def text(self) -> str:
        """The 90 characters as stored in DG1 (no line breaks, ICAO 9303-10 §4.7.1)."""
        return self.line1 + self.line2 + self.line3

    @property
    def lines(self) -> tuple[str, str, str]:
        return self.line1, self.line2, self.line3

    @classmethod
    def parse(cls, text: str) -> Td1:
        text = text.replace("\n", "")
        if len(text) != 3 * LINE:
            raise ValueError(f"a TD1 MRZ has 90 characters, got {len(text)}")
        return cls(text[:LINE], text[LINE : 2 * LINE], text[2 * LINE :])

    @property
    def document_number(self) -> str:
        return self.line1[5:14].rstrip("<")

    @property
    def birth_date(self) -> str:
        return self.line2[0:6]

    @property
    def expiry_date(self) -> str:
        return self.line2[8:14]

    def check_digits_valid(self) -> bool:
        """Every check digit of ICAO 9303-5 §4.2.2, the composite one included."""
        l1, l2 = self.line1, self.line2
        composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
        return (check_digit(l1[5:14]) == l1[14] and check_digit(l2[0:6]) == l2[6]
                and check_digit(l2[8:14]) == l2[14] and check_digit(composite) == l2[29])


def compose(*, document_code: str, issuing_state: str, document_number: str, birth_date: str, sex: str,
            expiry_date: str, nationality: str, name: str, optional1: str = "", optional2: str = "") -> Td1:
    """The three TD1 lines from their fields, every check digit computed (ICAO 9303-5 §4.2.2)."""
    number = document_number.upper().ljust(9, "<")
    line1 = (document_code.ljust(2, "<") + issuing_state + number + check_digit(number)
             + optional1.ljust(15, "<"))
    mrz_sex = "<" if sex in ("", "X") else sex
    line2 = (birth_date + check_digit(birth_date) + mrz_sex + expiry_date + check_digit(expiry_date)
             + nationality + optional2.ljust(11, "<"))
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    return Td1(line1, line2 + check_digit(composite), name.ljust(LINE, "<")[:LINE])


def td1(document: DocumentData, holder: HolderData) -> Td1:
    """The card's MRZ; the personal number goes in the optional data of line 1 (ICAO 9303-5 §4.2.2)."""
    return compose(document_code=document.document_code, issuing_state=document.issuing_state,
                   document_number=document.document_number, birth_date=yymmdd(holder.birth_date),
                   sex=holder.sex, expiry_date=yymmdd(document.expiry_date),
                   nationality=holder.nationality, name=holder.mrz_name,
                   optional1=holder.personal_number)


def mrz_information(document_number: str, birth_date: str, expiry_date: str) -> str:
    """Document number, birth and expiry date (YYMMDD) each with its check digit (ICAO 9303-11 §9.7.2)."""
    number = document_number.upper().ljust(9, "<")
    return (number + check_digit(number) + birth_date + check_digit(birth_date)
            + expiry_date + check_digit(expiry_date))
