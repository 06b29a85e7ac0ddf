"""DG2: the face as an ISO/IEC 19794-5 record in a biometric information template (ICAO 9303-10 §4.7.2)."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from asn1crypto import core
from PIL import Image

from personalization.lds.asn1 import app, load

FORMAT_ID = b"FAC\x00"
VERSION = b"010\x00"
FACE_HEADER = struct.Struct(">4s4sIH")  # ISO/IEC 19794-5:2005 §5.4 facial record header
FACE_INFO = struct.Struct(">IHBBB3sH3s3s")  # §5.5 facial information block
IMAGE_INFO = struct.Struct(">BBHHBBHH")  # §5.7 image information block
GENDER = {"M": 1, "F": 2, "X": 3, "<": 0}
FULL_FRONTAL = 0x01
JPEG = 0x00
RGB24 = 0x01
DIGITAL_STILL = 0x02
NEUTRAL = 0x0001


class BiometricHeader(core.Sequence):
    """A1: ICAO header version, biometric type, format owner and type (ICAO 9303-10 §4.7.2.2 table 38)."""

    class_ = 2
    tag = 1
    _fields = [
        ("header_version", core.OctetString, {"implicit": ("context", 0)}),
        ("biometric_type", core.OctetString, {"implicit": ("context", 1)}),
        ("format_owner", core.OctetString, {"implicit": ("context", 7)}),
        ("format_type", core.OctetString, {"implicit": ("context", 8)}),
    ]


class BiometricInfoTemplate(core.Sequence):
    """7F60: header and biometric data block (5F2E)."""

    class_ = 1
    tag = 0x60
    _fields = [("header", BiometricHeader), ("data", core.OctetString, app(0x2E))]


class BiometricInfoGroup(core.Sequence):
    """7F61: number of instances and one template (this profile stores one face)."""

    class_ = 1
    tag = 0x61
    _fields = [("count", core.Integer), ("template", BiometricInfoTemplate)]


class Dg2(core.Sequence):
    """Tag 75."""

    class_ = 1
    tag = 0x15
    _fields = [("group", BiometricInfoGroup)]


@dataclass(frozen=True)
class FaceRecord:
    """What DG2 says of the face image."""

    width: int
    height: int
    gender: int
    image_type: int
    jpeg: bytes


def face_record(jpeg: bytes, sex: str) -> bytes:
    """An ISO/IEC 19794-5:2005 record holding one full-frontal JPEG, no feature points."""
    with Image.open(io.BytesIO(jpeg)) as image:
        if image.format != "JPEG":
            raise ValueError("the chip face image must be a JPEG")
        width, height = image.size
    image_info = IMAGE_INFO.pack(FULL_FRONTAL, JPEG, width, height, RGB24, DIGITAL_STILL, 0, 0)
    block_length = FACE_INFO.size + len(image_info) + len(jpeg)
    face_info = FACE_INFO.pack(block_length, 0, GENDER.get(sex, 0), 0, 0, bytes(3), NEUTRAL,
                               bytes(3), bytes(3))
    header = FACE_HEADER.pack(FORMAT_ID, VERSION, FACE_HEADER.size + block_length, 1)
    return header + face_info + image_info + jpeg


def parse_face_record(record: bytes) -> FaceRecord:
    """Read back the first face of a 19794-5 record; raises ValueError on any inconsistency."""
    if len(record) < FACE_HEADER.size + FACE_INFO.size + IMAGE_INFO.size:
        raise ValueError("face record too short")
    fmt, version, length, count = FACE_HEADER.unpack_from(record)
    if fmt != FORMAT_ID or length != len(record) or count < 1:
        raise ValueError("not an ISO/IEC 19794-5 face record")
    block_length, points, gender = FACE_INFO.unpack_from(record, FACE_HEADER.size)[:3]
    pos = FACE_HEADER.size + FACE_INFO.size + 8 * points
    if pos + IMAGE_INFO.size > len(record):
        raise ValueError("face record feature points run past the record")
    image_type, data_type, width, height = IMAGE_INFO.unpack_from(record, pos)[:4]
    start = pos + IMAGE_INFO.size
    end = FACE_HEADER.size + block_length
    if data_type != JPEG or end > len(record):
        raise ValueError("face image is not a JPEG or runs past the record")
    return FaceRecord(width, height, gender, image_type, record[start:end])


def build(jpeg: bytes, sex: str) -> bytes:
    header = {"header_version": b"\x01\x01", "biometric_type": b"\x02",
              "format_owner": b"\x01\x01", "format_type": b"\x00\x08"}
    template = {"header": header, "data": face_record(jpeg, sex)}
    return Dg2({"group": {"count": 1, "template": template}}).dump()


def parse(data: bytes) -> FaceRecord:
    value = load(Dg2, data, "DG2")
    return parse_face_record(bytes(value["group"]["template"]["data"].native))
