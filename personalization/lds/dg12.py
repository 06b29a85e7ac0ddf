"""DG12: issuing authority and date of issue (ICAO 9303-10 §4.7.12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from asn1crypto import core

from personalization.lds.asn1 import app, compact_date, load, parse_compact_date, tag_list
from personalization.lds.holder import DocumentData

TAGS = (0x5F19, 0x5F26)


class Dg12(core.Sequence):
    """Tag 6C: tag list, issuing authority (5F19), date of issue yyyymmdd (5F26)."""

    class_ = 1
    tag = 12
    _fields = [
        ("tag_list", core.OctetString, app(0x1C)),
        ("issuing_authority", core.UTF8String, app(0x19)),
        ("date_of_issue", core.UTF8String, app(0x26)),
    ]


@dataclass(frozen=True)
class IssuingDetails:
    issuing_authority: str
    date_of_issue: date


def build(document: DocumentData) -> bytes:
    return Dg12({
        "tag_list": tag_list(TAGS),
        "issuing_authority": document.issuing_authority,
        "date_of_issue": compact_date(document.issue_date),
    }).dump()


def parse(data: bytes) -> IssuingDetails:
    value = load(Dg12, data, "DG12")
    issued = parse_compact_date(value["date_of_issue"].native, "DG12 date of issue")
    return IssuingDetails(value["issuing_authority"].native, issued)
