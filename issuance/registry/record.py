"""What the registry says about one citizen: the wire format of the registry protocol."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel

from issuance.person import Person


@dataclass(frozen=True)
class CitizenRecord(Person):
    """One citizen as the registry knows and returns them (protocol v1): the person, and more."""

    death_date: dt.date | None = None
    active_card: str | None = None
    # The registry holds a reference face photo, fetched on its own (`GET /v1/citizens/{nn}/photo`).
    has_photo: bool = False


class LookupRequest(BaseModel):
    national_numbers: list[str]


class LookupResponse(BaseModel):
    """Found records by national number; numbers the registry does not know are listed apart."""

    found: dict[str, CitizenRecord]
    missing: list[str]
