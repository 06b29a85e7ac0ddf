"""EF.COM: LDS version, Unicode version and the list of data groups present (ICAO 9303-10 §4.6.1)."""

from __future__ import annotations

from asn1crypto import core

from personalization.lds import profile
from personalization.lds.asn1 import app, load, tag_list


class EfCom(core.Sequence):
    """Tag 60."""

    class_ = 1
    tag = 0
    _fields = [
        ("lds_version", core.PrintableString, app(0x01)),
        ("unicode_version", core.PrintableString, app(0x36)),
        ("tag_list", core.OctetString, app(0x1C)),
    ]


def build(files: list[profile.LdsFile]) -> bytes:
    """EF.COM listing the data groups among `files` (EF.COM and EF.SOD are not listed)."""
    tags = [f.tag for f in files if f.number is not None]
    return EfCom({"lds_version": profile.LDS_VERSION, "unicode_version": profile.UNICODE_VERSION,
                  "tag_list": tag_list(tags)}).dump()


def data_group_tags(data: bytes) -> list[int]:
    """The tags EF.COM lists."""
    return list(load(EfCom, data, "EF.COM")["tag_list"].native)
