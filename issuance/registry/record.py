"""What the registry says about one citizen: the wire format of the registry protocol."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class CitizenRecord:
    """One citizen as the registry knows and returns them (protocol v1)."""

    national_number: str
    first_name_ar: str
    father_name_ar: str
    grandfather_name_ar: str
    family_name_ar: str
    given_names_latin: str
    surname_latin: str
    sex: str
    birth_date: dt.date
    birth_place: str
    address: str
    nationality: str
    death_date: dt.date | None = None
    active_card: str | None = None


class LookupRequest(BaseModel):
    national_numbers: list[str]


class LookupResponse(BaseModel):
    """Found records by national number; numbers the registry does not know are listed apart."""

    found: dict[str, CitizenRecord]
    missing: list[str]
