"""DG11: additional personal details, the full name in Arabic among them (ICAO 9303-10 §4.7.11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from asn1crypto import core

from personalization.lds.asn1 import app, compact_date, load, parse_compact_date, tag_list
from personalization.lds.holder import HolderData

# 5F0E full name, 5F10 personal number, 5F2B full date of birth, 5F11 place of birth, 5F42 address
TAGS = (0x5F0E, 0x5F10, 0x5F2B, 0x5F11, 0x5F42)


class Dg11(core.Sequence):
    """Tag 6B: tag list (5C) then the fields it names, in that order."""

    class_ = 1
    tag = 11
    _fields = [
        ("tag_list", core.OctetString, app(0x1C)),
        ("full_name", core.UTF8String, app(0x0E)),
        ("personal_number", core.UTF8String, app(0x10)),
        ("full_birth_date", core.UTF8String, app(0x2B)),
        ("place_of_birth", core.UTF8String, app(0x11)),
        ("address", core.UTF8String, app(0x42)),
    ]


@dataclass(frozen=True)
class PersonalDetails:
    full_name: str
    personal_number: str
    birth_date: date
    place_of_birth: str
    address: str


def build(holder: HolderData) -> bytes:
    return Dg11({
        "tag_list": tag_list(TAGS),
        "full_name": holder.full_name_arabic,
        "personal_number": holder.personal_number,
        "full_birth_date": compact_date(holder.birth_date),
        "place_of_birth": holder.place_of_birth,
        "address": holder.address,
    }).dump()


def parse(data: bytes) -> PersonalDetails:
    value = load(Dg11, data, "DG11")
    born = parse_compact_date(value["full_birth_date"].native, "DG11 date of birth")
    return PersonalDetails(value["full_name"].native, value["personal_number"].native, born,
                           value["place_of_birth"].native, value["address"].native)
