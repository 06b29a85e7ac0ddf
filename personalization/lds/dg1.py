"""DG1: the MRZ, 90 characters for TD1 (ICAO 9303-10 §4.7.1)."""

from __future__ import annotations

from asn1crypto import core

from personalization.lds.asn1 import app, load
from personalization.lds.mrz import Td1


class Dg1(core.Sequence):
    """Tag 61 holding 5F1F."""

    class_ = 1
    tag = 1
    _fields = [("mrz", core.PrintableString, app(0x1F))]


def build(mrz: Td1) -> bytes:
    return Dg1({"mrz": mrz.text}).dump()


def parse(data: bytes) -> Td1:
    return Td1.parse(load(Dg1, data, "DG1")["mrz"].native)
