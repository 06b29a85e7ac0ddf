"""SecurityInfos of EF.CardAccess and DG14 (ICAO 9303-11 §9.2), encoded with asn1crypto."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from personalization import tlv

# ICAO 9303-11 §9.2 and BSI TR-03110-3 A.1.1 object identifiers.
PACE_ECDH_GM_AES_128 = "0.4.0.127.0.7.2.2.4.2.2"
CA_ECDH_AES_128 = "0.4.0.127.0.7.2.2.3.2.2"
PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
ACTIVE_AUTHENTICATION = "2.23.136.1.1.5"
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"


class SecurityInfo(core.Sequence):
    """SecurityInfo ::= SEQUENCE {protocol OID, requiredData ANY, optionalData ANY OPTIONAL}."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfos(core.SetOf):
    """SecurityInfos ::= SET OF SecurityInfo (DER sorts the members)."""

    _child_spec = SecurityInfo


def oid_content(dotted: str) -> bytes:
    """The value bytes of an OBJECT IDENTIFIER, as the 06 data objects of APDUs carry it."""
    return core.ObjectIdentifier(dotted).contents


def info(protocol: str, required: core.Asn1Value, optional: core.Asn1Value | None = None
         ) -> SecurityInfo:
    fields: dict[str, object] = {"protocol": protocol, "required_data": required}
    if optional is not None:
        fields["optional_data"] = optional
    return SecurityInfo(fields)


def encode(infos: list[SecurityInfo]) -> bytes:
    return SecurityInfos(infos).dump(force=True)


@dataclass(frozen=True)
class ParsedInfo:
    """One SecurityInfo read back: protocol and the raw DER of its two data fields."""

    protocol: str
    required: bytes
    optional: bytes | None

    def integer(self, field: str = "required") -> int:
        raw = self.required if field == "required" else self.optional
        if raw is None:
            raise ValueError(f"{self.protocol}: no {field} data")
        value = core.Integer.load(raw).native
        if not isinstance(value, int):
            raise ValueError(f"{self.protocol}: {field} data is not an INTEGER")
        return value


def parse(data: bytes) -> list[ParsedInfo]:
    """Decode SecurityInfos; ValueError names what is wrong (unknown protocols are kept)."""
    try:
        infos = SecurityInfos.load(data, strict=True)
        out = []
        for item in infos:
            optional = item["optional_data"]
            out.append(ParsedInfo(item["protocol"].dotted, item["required_data"].dump(),
                                  None if isinstance(optional, core.Void) else optional.dump()))
        return out
    except (ValueError, TypeError) as exc:
        raise ValueError(f"SecurityInfos: {exc}") from exc


def data_group_body(content: bytes, tag: int, name: str) -> bytes:
    """The value inside a data group's outer tag (ICAO 9303-10 §4.7); ValueError naming the DG."""
    try:
        body = tlv.find(content, tag)
    except tlv.TlvError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    if body is None:
        raise ValueError(f"{name}: tag {tag:02X} missing")
    return body
