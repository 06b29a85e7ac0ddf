"""What is printed on one card: pure data, independent of the ORM and of the chip code."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from printing.mrz import validate_lines

SEXES = {"M", "F", "X", "<"}


@dataclass(frozen=True)
class CardFace:
    """The printed data of one card; `mrz` is the three TD1 lines exactly as DG1 holds them."""

    document_number: str
    arabic_name: str
    latin_name: str
    national_number: str
    sex: str
    birth_date: date
    expiry_date: date
    issue_date: date
    place_of_birth: str
    address: str
    mrz: tuple[str, str, str]
    photo: bytes
    signature: bytes | None = None
    nationality: str = ""

    def __post_init__(self) -> None:
        validate_lines(self.mrz)
        if self.sex not in SEXES:
            raise ValueError(f"sex: must be one of {sorted(SEXES)}, got {self.sex!r}")
        if not self.photo:
            raise ValueError("photo: a card is never printed without the holder's photo")


# Fields a design may place as text (the images and the MRZ have their own element kinds).
TEXT_FIELDS = frozenset(
    f.name for f in fields(CardFace) if f.name not in {"photo", "signature", "mrz"}
)
DATE_FIELDS = frozenset({"birth_date", "expiry_date", "issue_date"})
