"""DG7: the displayed signature, one JPEG image (ICAO 9303-10 §4.7.7)."""

from __future__ import annotations

from asn1crypto import core

from personalization.lds.asn1 import app, load


class Dg7(core.Sequence):
    """Tag 67: number of images (02) and the image (5F43)."""

    class_ = 1
    tag = 7
    _fields = [("count", core.Integer), ("image", core.OctetString, app(0x43))]


def build(signature_jpeg: bytes) -> bytes:
    return Dg7({"count": 1, "image": signature_jpeg}).dump()


def parse(data: bytes) -> bytes:
    return bytes(load(Dg7, data, "DG7")["image"].native)
