"""What the chip is written from: the holder and the document, as plain data (no ORM rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MRZ_CHARS = re.compile(r"[A-Z0-9<]*")
# Primary identifier, then optionally << and the secondary; components joined by one < (ICAO 9303-3 §4.6).
NAME_FIELD = re.compile(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?<*")
ALNUM = re.compile(r"[A-Z0-9]*")
ALPHA3 = re.compile(r"[A-Z]{3}")


class LdsInputError(ValueError):
    """A field cannot go into the LDS; names the field and the rule it breaks."""

    def __init__(self, field_name: str, rule: str) -> None:
        self.field = field_name
        self.rule = rule
        super().__init__(f"{field_name}: {rule}")


@dataclass(frozen=True)
class HolderData:
    """The holder as enrollment reviewed it; mrz_name is the reviewed TD1 name field (ICAO 9303-3 §4.6)."""

    mrz_name: str
    full_name_arabic: str
    birth_date: date
    sex: str
    nationality: str
    personal_number: str
    place_of_birth: str
    address: str
    face_jpeg: bytes = field(repr=False)
    signature_jpeg: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _mrz_field("mrz_name", self.mrz_name, 30)
        if not NAME_FIELD.fullmatch(self.mrz_name):
            raise LdsInputError("mrz_name", "must be PRIMARY<<SECONDARY, letters A-Z, components joined by "
                                            "one < (ICAO 9303-3 §4.6)")
        if self.sex not in ("M", "F", "X", "<"):
            raise LdsInputError("sex", "must be M, F or X")
        if not ALPHA3.fullmatch(self.nationality):
            raise LdsInputError("nationality", "must be three letters A-Z (ICAO 9303-3 §5)")
        _mrz_field("personal_number", self.personal_number, 15)
        if not ALNUM.fullmatch(self.personal_number):
            raise LdsInputError("personal_number", "only A-Z and 0-9")
        for name in ("full_name_arabic", "place_of_birth", "address"):
            value = getattr(self, name)
            if not value.strip() or "\x00" in value:
                raise LdsInputError(name, "must not be empty")
        if not self.face_jpeg.startswith(b"\xff\xd8"):
            raise LdsInputError("face_jpeg", "must be a JPEG image")
        if not self.signature_jpeg.startswith(b"\xff\xd8"):
            raise LdsInputError("signature_jpeg", "must be a JPEG image")


@dataclass(frozen=True)
class DocumentData:
    """The document: number, issuing state, dates and authority (ICAO 9303-5 §4.2)."""

    document_number: str
    issuing_state: str
    issue_date: date
    expiry_date: date
    issuing_authority: str
    document_code: str = "ID"

    def __post_init__(self) -> None:
        _mrz_field("document_number", self.document_number, 9)
        if not self.document_number.strip("<"):
            raise LdsInputError("document_number", "must not be empty")
        if not ALPHA3.fullmatch(self.issuing_state):
            raise LdsInputError("issuing_state", "must be three letters A-Z")
        if len(self.document_code) != 2 or not MRZ_CHARS.fullmatch(self.document_code) \
                or self.document_code[0] not in "ACI":
            raise LdsInputError("document_code", "must be 2 MRZ characters starting with A, C or I")
        if self.expiry_date <= self.issue_date:
            raise LdsInputError("expiry_date", "must be after the issue date")
        if not self.issuing_authority.strip():
            raise LdsInputError("issuing_authority", "must not be empty")


def _mrz_field(name: str, value: str, length: int) -> None:
    if not MRZ_CHARS.fullmatch(value):
        raise LdsInputError(name, "only A-Z, 0-9 and < are allowed (ICAO 9303-3 §4.3)")
    if len(value) > length:
        raise LdsInputError(name, f"at most {length} characters")
